/**
 * The job's identity server: a small HTTP server on the loopback address that
 * answers the managed identity protocols (protocols.ts) with tokens for one
 * chosen identity, or for the identity a request names, fetched upstream by
 * `upstream` (the caller passes acquireToken with the source it detected),
 * cached per (resource, identity) and refreshed before expiry (cache.ts).
 * Every request passes guard.ts first; the post-job step stops it with a
 * proof of the control key (control.ts) and gets its usage report. It also
 * stops on its own after `idleMs` without a token request or `lifetimeMs`.
 * Knows nothing of Azure Pipelines.
 */
import { once } from 'node:events';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isManagedIdentityError } from '../errors';
import { describeIdentity, IdentitySelector } from '../identity';
import { Clock, realClock } from '../retry';
import { CachedToken, TokenCache } from './cache';
import { CONTROL_PATH, NONCE_HEADER, PROOF_HEADER, reportProof, stopAllowed } from './control';
import { guardRequest, MAX_BODY_BYTES } from './guard';
import { errorAnswer, HttpAnswer, parseTokenRequest, ProtocolName, serverPaths, tokenAnswer } from './protocols';
import { Usage, UsageReport } from './usage';

export interface IdentityServerOptions {
  /** The header value and path secret every token request must carry (newServerSecret). */
  secret: string;
  /** The post-job step's key: only a proof of it stops the server. */
  controlKey: string;
  /** The identity answered when a request names none. */
  chosen: IdentitySelector;
  /** Other selectors of the chosen identity (its client, object or resource ID): a request naming one is answered as the chosen one. */
  chosenAliases?: IdentitySelector[];
  /** Fetches a token for (resource, identity) from the real source. May throw a ManagedIdentityError. */
  upstream(resource: string, identity: IdentitySelector): Promise<CachedToken>;
  /** Resources the server may hand out (normalised by normaliseResource); undefined: any. */
  allowedAudiences?: string[];
  /** The refusal for another audience; %s is the audience. Names the input that set the list. */
  audienceRefusal?: string;
  clock?: Clock;
  /** Stops after this long without a token request (default 6 hours). */
  idleMs?: number;
  /** Stops after this long whatever happens (default 48 hours). */
  lifetimeMs?: number;
  /** 0 (default): any free port. */
  port?: number;
}

export const DEFAULT_IDLE_MS = 6 * 3600_000;
export const DEFAULT_LIFETIME_MS = 48 * 3600_000;
export const LOOPBACK = '127.0.0.1';
/** The stop reason of a stop the post-job step asked for. */
export const STOP_REQUEST = 'stop request';
const MAX_CONNECTIONS = 256;

/** A resource as compared with allowedAudiences: no trailing slash or /.default, any case. */
export function normaliseResource(resource: string): string {
  return resource.trim().replace(/\/\.default$/i, '').replace(/\/+$/, '').toLowerCase();
}

function sameIdentity(a: IdentitySelector, b: IdentitySelector): boolean {
  if (a.kind === 'system' || b.kind === 'system') return a.kind === b.kind;
  return a.kind === b.kind && a.id.toLowerCase() === b.id.toLowerCase();
}

export class IdentityServer {
  readonly cache: TokenCache;
  private readonly usage: Usage;
  private readonly clock: Clock;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly nonces = new Set<string>();
  private readonly allowed?: Set<string>;
  private host = '';
  private idleTimer?: NodeJS.Timeout;
  private lifeTimer?: NodeJS.Timeout;
  private stopping?: Promise<UsageReport>;
  private resolveStopped!: (report: UsageReport) => void;
  /** Settles with the usage report once the server has stopped, for whatever reason. */
  readonly stopped: Promise<UsageReport>;
  port = 0;

  constructor(private readonly options: IdentityServerOptions) {
    this.clock = options.clock ?? realClock;
    this.cache = new TokenCache(this.clock);
    this.usage = new Usage(new Date(this.clock.now()));
    this.allowed = options.allowedAudiences && new Set(options.allowedAudiences.map(normaliseResource));
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, (req, res) => {
      void this.handle(req, res);
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('clientError', (_e, socket: Socket) => socket.destroy());
    // Bounded like everything else: a local process cannot hold the server's file descriptors without limit.
    this.server.maxConnections = MAX_CONNECTIONS;
  }

  /** Listens on the loopback address only. */
  async start(): Promise<this> {
    this.server.listen(this.options.port ?? 0, LOOPBACK);
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
    this.host = `${LOOPBACK}:${this.port}`;
    this.touch();
    this.lifeTimer = setTimeout(() => void this.stop('lifetime'), this.options.lifetimeMs ?? DEFAULT_LIFETIME_MS);
    this.lifeTimer.unref();
    return this;
  }

  get url(): string {
    return `http://${this.host}`;
  }

  /** The endpoints to give clients: IDENTITY_ENDPOINT, MSI_ENDPOINT and the IMDS-style ARM_MSI_ENDPOINT. */
  get endpoints(): { identityEndpoint: string; msiEndpoint: string; imdsEndpoint: string } {
    const p = serverPaths(this.options.secret);
    return { identityEndpoint: `${this.url}${p.appService}`, msiEndpoint: `${this.url}${p.msiEndpoint}`, imdsEndpoint: `${this.url}${p.imds}` };
  }

  report(): UsageReport {
    return this.usage.report(this.cache.upstreamRequests);
  }

  /** Stops listening, closes every connection, and settles `stopped` with the report. */
  stop(reason: string): Promise<UsageReport> {
    this.stopping ??= (async () => {
      clearTimeout(this.idleTimer);
      clearTimeout(this.lifeTimer);
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const s of this.sockets) s.destroy();
      await closed;
      const report = { ...this.report(), stopReason: reason };
      this.resolveStopped(report);
      return report;
    })();
    return this.stopping;
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.stop('idle'), this.options.idleMs ?? DEFAULT_IDLE_MS);
    this.idleTimer.unref();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const guard = guardRequest(req, this.host);
    if (guard) {
      this.usage.refusedFor(guard.code);
      return send(res, errorAnswer(undefined, guard), true);
    }
    const body = await readBody(req);
    if (body === undefined) {
      this.usage.refusedFor('body_too_large');
      return send(res, errorAnswer(undefined, { status: 413, code: 'body_too_large', message: `The request body is longer than ${MAX_BODY_BYTES} bytes.` }), true);
    }
    // The origin-form target only ("/path?query"): "//host/path" must not move the path into a host.
    const target = req.url ?? '';
    if (!target.startsWith('/')) {
      this.usage.refusedFor('invalid_request');
      return send(res, errorAnswer(undefined, { status: 400, code: 'invalid_request', message: 'The request target must be a path.' }), true);
    }
    const url = new URL(`${this.url}${target}`);
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    if (url.pathname === CONTROL_PATH && req.method === 'POST') return this.control(header(NONCE_HEADER), header(PROOF_HEADER), res);

    const parsed = parseTokenRequest({ method: req.method ?? '', path: url.pathname, query: url.searchParams, header, body }, this.options.secret);
    if (!parsed.ok) {
      this.usage.refusedFor(parsed.refusal.code);
      return send(res, errorAnswer(parsed.protocol, parsed.refusal));
    }
    const { protocol, resource } = parsed.ask;
    if (this.allowed && !this.allowed.has(normaliseResource(resource))) {
      this.usage.refusedFor('audience_not_allowed');
      const message = (this.options.audienceRefusal ?? 'The audience %s is not allowed by this identity endpoint.').replace('%s', resource);
      return send(res, errorAnswer(protocol, { status: 403, code: 'audience_not_allowed', message }));
    }
    this.touch();
    const asked = parsed.ask.identity;
    const chosen = [this.options.chosen, ...(this.options.chosenAliases ?? [])];
    const named = asked && !chosen.some((c) => sameIdentity(asked, c)) ? asked : undefined;
    const identity = named ?? this.options.chosen;
    const key = `${normaliseResource(resource)}\n${identity.kind === 'system' ? 'system' : `${identity.kind}:${identity.id.toLowerCase()}`}`;
    try {
      const token = await this.cache.get(key, () => this.options.upstream(resource, identity));
      const now = this.clock.now();
      this.usage.served(resource, named ? `${describeIdentity(named)}, named by the request` : describeIdentity(identity), protocol, header('user-agent'), new Date(now));
      send(res, tokenAnswer(protocol, { ...token, resource, nowMs: now }));
    } catch (e) {
      this.usage.refusedFor('upstream_failed');
      send(res, upstreamFailure(protocol, e));
    }
  }

  private async control(nonce: string | undefined, proof: string | undefined, res: ServerResponse): Promise<void> {
    if (!stopAllowed(this.options.controlKey, nonce, proof, this.nonces)) {
      this.usage.refusedFor('control_refused');
      return send(res, errorAnswer(undefined, { status: 401, code: 'unauthorized', message: 'Not allowed.' }));
    }
    const body = JSON.stringify({ ...this.report(), stopReason: STOP_REQUEST });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), [PROOF_HEADER]: reportProof(this.options.controlKey, nonce ?? '', body), Connection: 'close' });
    res.end(body, () => void this.stop(STOP_REQUEST));
  }
}

function upstreamFailure(protocol: ProtocolName, e: unknown): HttpAnswer {
  if (isManagedIdentityError(e)) {
    const status = e.kind === 'refused' || e.kind === 'badInput' ? 400 : e.kind === 'timeout' ? 504 : 502;
    return errorAnswer(protocol, { status, code: e.kind === 'refused' ? 'invalid_request' : 'upstream_failed', message: e.message });
  }
  return errorAnswer(protocol, { status: 500, code: 'server_error', message: `The identity server failed: ${e instanceof Error ? e.message : String(e)}` });
}

/** The body, or undefined when it is longer than MAX_BODY_BYTES (the rest is not read). */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, answer: HttpAnswer, close = false): void {
  if (res.destroyed) return;
  const payload = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(payload)),
    'Cache-Control': 'no-store',
    ...(close ? { Connection: 'close' } : {}),
  });
  res.end(payload);
}

/** Starts an identity server on a free loopback port. */
export function startIdentityServer(options: IdentityServerOptions): Promise<IdentityServer> {
  return new IdentityServer(options).start();
}
