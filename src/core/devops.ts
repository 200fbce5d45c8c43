/**
 * Checks that Azure DevOps accepts a managed identity token: asks the
 * organization for its connection data (azure-devops-node-api's
 * WebApi.connect(), GET {collection}/_apis/connectionData) through the
 * agent's proxy and certificate settings, and reads who it says we are.
 * Azure DevOps answers a token it does not accept in several ways: a 401
 * (TF400813, TF401444, VS30063), the anonymous identity (organizations with
 * public projects), or a 203 with an HTML sign-in page.
 */
import type { IRequestOptions } from 'azure-devops-node-api/interfaces/common/VsoBaseInterfaces';
import type { NetworkSettings } from './network';
import { sanitize, shortPlainText } from './token-response';

/**
 * Whether a collection URL is Azure DevOps Services (dev.azure.com, or an
 * organization's *.visualstudio.com), which takes Microsoft Entra ID tokens.
 * Azure DevOps Server does not.
 */
export function isDevOpsServicesUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url.trim()).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === 'dev.azure.com' || host.endsWith('.visualstudio.com');
}

/** The ID Azure DevOps gives the anonymous (unauthenticated) user. */
export const DEVOPS_ANONYMOUS_ID = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';

export interface DevOpsIdentity {
  /** The Azure DevOps identity ID (not the Entra object ID). */
  id: string;
  displayName: string;
  descriptor?: string;
}

export type DevOpsProblem =
  /** The service did not authenticate the token and answered as the anonymous user. */
  | 'anonymous'
  /** HTTP 401 (or 403): the identity is not a user of the organization, or the token is not for Azure DevOps. */
  | 'unauthorized'
  /** HTTP 203 with an HTML sign-in page: the token was not taken. */
  | 'signIn'
  /** Nothing usable: no connection data at that URL (404, empty or not JSON). */
  | 'noData'
  /** No answer at all (DNS, proxy, TLS, timeout). */
  | 'unreachable';

export type DevOpsCheck =
  | { ok: true; identity: DevOpsIdentity }
  | { ok: false; problem: DevOpsProblem; status?: number; detail: string; codes: string[] };

/** The TFnnnnnn / VSnnnnn error codes a message names. */
export function errorCodes(text: string): string[] {
  return [...new Set(text.match(/\b(TF\d{5,6}|VS\d{5})\b/g) ?? [])];
}

/** Every detail comes from the server or the client library: one line, nothing that looks like a token, short. */
function failure(problem: DevOpsProblem, detail: string, status?: number): DevOpsCheck {
  const oneLine = sanitize(detail).replace(/\s+/g, ' ').trim().slice(0, 300);
  return { ok: false, problem, status, detail: oneLine, codes: errorCodes(detail) };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

/** Reads connection data: who the service says the caller is. */
export function evaluateConnectionData(data: unknown): DevOpsCheck {
  const user = data !== null && typeof data === 'object' ? (data as Record<string, unknown>).authenticatedUser : undefined;
  if (user === null || typeof user !== 'object') return failure('noData', 'no authenticatedUser in the connection data');
  const u = user as Record<string, unknown>;
  const id = str(u.id);
  const descriptor = str(u.descriptor);
  if (!id) return failure('noData', 'the authenticated user has no id');
  if (id.toLowerCase() === DEVOPS_ANONYMOUS_ID || /UnauthenticatedIdentity|PublicAccess/i.test(descriptor ?? '')) {
    return failure('anonymous', `authenticated as ${str(u.providerDisplayName) ?? 'Anonymous'} (${id})`);
  }
  return { ok: true, identity: { id, displayName: str(u.customDisplayName) ?? str(u.providerDisplayName) ?? id, descriptor } };
}

/** Reads a raw answer (status, content type, body). */
export function evaluateResponse(status: number, contentType: string, body: string): DevOpsCheck {
  if (status === 401 || status === 403) return failure('unauthorized', messageOf(body) || `HTTP ${status}`, status);
  if (status === 203 || /text\/html/i.test(contentType) || /^\s*<(!doctype|html)/i.test(body)) {
    const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1]?.trim();
    return failure('signIn', `HTTP ${status}, an HTML page${title ? ` "${title}"` : ''}`, status);
  }
  if (status < 200 || status > 299) return failure('noData', messageOf(body) || `HTTP ${status}`, status);
  try {
    return evaluateConnectionData(JSON.parse(body));
  } catch {
    return failure('noData', `HTTP ${status}, not JSON`, status);
  }
}

/** The message of an Azure DevOps error body ({message, typeKey, …}), or a short text. */
function messageOf(body: string): string {
  try {
    const j = JSON.parse(body) as { message?: unknown };
    if (typeof j.message === 'string') return sanitize(j.message);
  } catch {
    // not JSON
  }
  return /</.test(body) ? '' : (shortPlainText(body) ?? '');
}

/** Reads the error WebApi.connect() rejects with (typed-rest-client: statusCode, message, result). */
export function evaluateError(e: unknown): DevOpsCheck {
  const err = e as { statusCode?: unknown; message?: unknown; code?: unknown; result?: { message?: unknown } };
  const message = typeof err?.result?.message === 'string' ? err.result.message : typeof err?.message === 'string' ? err.message : String(e);
  if (typeof err?.statusCode === 'number') {
    return err.statusCode === 401 || err.statusCode === 403
      ? failure('unauthorized', message, err.statusCode)
      : failure('noData', `HTTP ${err.statusCode}: ${message}`, err.statusCode);
  }
  return failure('unreachable', [err?.code, message].filter((v) => typeof v === 'string').join(' '));
}

/** The agent's network settings as azure-devops-node-api (typed-rest-client) takes them. */
export function devOpsRequestOptions(settings: NetworkSettings, timeoutMs: number): IRequestOptions {
  const p = settings.proxy;
  return {
    socketTimeout: timeoutMs,
    allowRetries: false,
    ignoreSslError: settings.skipCertValidation === true,
    proxy: p ? { proxyUrl: p.url, proxyUsername: p.username, proxyPassword: p.password, proxyBypassHosts: p.bypass } : undefined,
    cert:
      settings.caFile || settings.certFile
        ? { caFile: settings.caFile, certFile: settings.certFile, keyFile: settings.keyFile, passphrase: settings.passphrase }
        : undefined,
  };
}

/**
 * Connects to the organization with the token and reports who it is. When
 * connect() has nothing to report (a 203 sign-in page and a 404 both end as
 * null), one more request through the same client tells them apart.
 */
export async function checkAzureDevOps(collectionUri: string, token: string, settings: NetworkSettings, timeoutMs = 30_000): Promise<DevOpsCheck> {
  // Loaded here, not at start-up: only this check needs it (a file of its own in the task bundle).
  const { WebApi, getBearerHandler } = require('azure-devops-node-api') as typeof import('azure-devops-node-api');
  const api = new WebApi(collectionUri, getBearerHandler(token), devOpsRequestOptions(settings, timeoutMs));
  let data: unknown;
  try {
    data = await api.connect();
  } catch (e) {
    return evaluateError(e);
  }
  if (data) return evaluateConnectionData(data);
  try {
    const res = await api.rest.client.get(api.vsoClient.resolveUrl('/_apis/connectionData'));
    const body = await res.readBody();
    return evaluateResponse(res.message.statusCode ?? 0, String(res.message.headers['content-type'] ?? ''), body);
  } catch (e) {
    return evaluateError(e);
  }
}
