/**
 * The agent's network settings for calls that leave the machine (Entra ID,
 * Azure Resource Manager, Key Vault, Azure DevOps): an optional proxy with a
 * bypass list, and TLS trust (an extra CA, a client certificate, or no
 * validation). Local identity endpoints never use these: they go direct.
 * The tasks fill this from the agent (tasks/common/network.ts); the core
 * turns it into an undici dispatcher.
 */
import { readFileSync } from 'node:fs';
import type { Dispatcher } from 'undici';
import { destroyOpenSockets, trackSockets, undici } from './http';

export interface ProxySettings {
  url: string;
  username?: string;
  password?: string;
  /** Regular expressions for hosts (URLs) that must not use the proxy, as the agent gives them. */
  bypass?: string[];
}

export interface NetworkSettings {
  proxy?: ProxySettings;
  /** Extra trusted CA certificates, PEM file path. */
  caFile?: string;
  /** Client certificate and key, PEM file paths. */
  certFile?: string;
  keyFile?: string;
  passphrase?: string;
  /** Agent.SkipCertValidation. */
  skipCertValidation?: boolean;
}

export const DIRECT: NetworkSettings = {};

function bypassed(url: string, proxy: ProxySettings): boolean {
  return (proxy.bypass ?? []).some((pattern) => {
    try {
      return new RegExp(pattern, 'i').test(url);
    } catch {
      return false;
    }
  });
}

const cache = new Map<string, Dispatcher>();

/** The dispatcher for a URL under these settings (cached per setting and proxy choice). */
export function dispatcherFor(url: string, settings: NetworkSettings, connectTimeoutMs = 10_000): Dispatcher {
  const proxy = settings.proxy && !bypassed(url, settings.proxy) ? settings.proxy : undefined;
  const key = JSON.stringify([proxy?.url, proxy?.username, settings.caFile, settings.certFile, settings.keyFile, settings.skipCertValidation, connectTimeoutMs]);
  let d = cache.get(key);
  if (d) return d;
  const tls = {
    ca: settings.caFile ? readFileSync(settings.caFile, 'utf8') : undefined,
    cert: settings.certFile ? readFileSync(settings.certFile, 'utf8') : undefined,
    key: settings.keyFile ? readFileSync(settings.keyFile, 'utf8') : undefined,
    passphrase: settings.passphrase,
    rejectUnauthorized: !settings.skipCertValidation,
    timeout: connectTimeoutMs,
  };
  const u = undici();
  if (proxy) {
    const token =
      proxy.username !== undefined
        ? `Basic ${Buffer.from(`${proxy.username}:${proxy.password ?? ''}`).toString('base64')}`
        : undefined;
    // The connection to the proxy is tracked (the tunnel's TLS runs over it), so that closing ends a stalled one.
    d = new u.ProxyAgent({
      uri: proxy.url,
      token,
      requestTls: tls,
      connect: { timeout: connectTimeoutMs },
      clientFactory: (origin, options) => {
        const o = options as { connect?: unknown };
        return new u.Client(origin, { ...o, connect: typeof o.connect === 'function' ? trackSockets(o.connect as Parameters<typeof trackSockets>[0]) : undefined });
      },
    });
  } else {
    d = new u.Agent({ connect: trackSockets(u.buildConnector(tls)) });
  }
  cache.set(key, d);
  return d;
}

/** Ends the dispatchers made here, so a short-lived process exits at once (destroyed: see closeHttpAgents). */
export async function closeNetworkDispatchers(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  destroyOpenSockets();
  await Promise.all(all.map((d) => d.destroy().catch(() => undefined)));
}
