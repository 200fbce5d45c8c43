/**
 * One HTTP exchange: a per-request timeout, a size limit on the answer, and no
 * proxy unless the caller passes a dispatcher that has one. Local identity
 * endpoints (IMDS, App Service, Arc, …) must never go through a proxy.
 *
 * Two transports behind one send():
 * - plain `http:` with no dispatcher (every local identity endpoint but
 *   Service Fabric's) goes through Node's own http module, one connection per
 *   request. It is part of Node and costs nothing to load, while loading
 *   undici (and compiling its WebAssembly HTTP parser, which Node 20 waits
 *   for at exit) costs 20 to 60 ms: as much as the token task's whole budget
 *   above Node's own start-up on an IMDS agent.
 * - everything else (Entra, ARM, Key Vault, a proxy, Service Fabric's pinned
 *   TLS) goes through undici, loaded on first use.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Dispatcher } from 'undici';

export interface HttpRequest {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Whole exchange, connect to last byte. */
  timeoutMs: number;
  /** Connection set-up alone (default 10 s, never past timeoutMs); a short value makes an unreachable endpoint fail fast. */
  connectTimeoutMs?: number;
  /** Answers larger than this are refused (default 1 MiB). */
  maxBytes?: number;
  /** A dispatcher (proxy, TLS options). Default: direct, no proxy. */
  dispatcher?: Dispatcher;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type NetworkFailure = 'refused' | 'unreachable' | 'timeout' | 'tooLarge' | 'tls' | 'other';

/** A request that got no usable HTTP answer. */
export class HttpNetworkError extends Error {
  constructor(
    readonly failure: NetworkFailure,
    readonly url: string,
    readonly detail: string,
    /** What undici threw, when there was something. */
    override readonly cause?: unknown,
  ) {
    super(`${failure}: ${detail}`);
    this.name = 'HttpNetworkError';
  }
}

/** A TLS server whose certificate is not the pinned one; nothing was sent to it. */
export class CertificatePinError extends Error {
  readonly code = 'ERR_TLS_CERT_THUMBPRINT_MISMATCH';
  constructor(
    readonly actual: string,
    readonly expected: string,
  ) {
    super(`the server certificate's SHA-1 thumbprint ${actual} is not the pinned ${expected}`);
    this.name = 'CertificatePinError';
  }
}

/** The pin failure behind a network error, if that is what it was. */
export function pinFailure(e: HttpNetworkError): CertificatePinError | undefined {
  for (let c: unknown = e.cause; c; c = (c as { cause?: unknown }).cause) {
    if (c instanceof CertificatePinError) return c;
  }
  return undefined;
}

export const DEFAULT_MAX_BYTES = 1024 * 1024;

/**
 * The parts of undici the core uses (a dispatcher's request(), not undici's
 * fetch or its global request): the tasks bundle only these (scripts/build.ts
 * UNDICI_PARTS), so keep the two in step.
 */
type Undici = Pick<typeof import('undici'), 'Agent' | 'Client' | 'ProxyAgent' | 'buildConnector'>;
let undiciModule: Undici | undefined;
/** undici is loaded on first use so that a task that fails on its inputs starts fast. */
export function undici(): Undici {
  undiciModule ??= require('undici') as Undici;
  return undiciModule;
}

/**
 * Connection set-up limit when the caller sets none. The whole-exchange timer
 * still ends a request sooner, so one pool serves every request timeout.
 */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

type Connector = (options: Parameters<ReturnType<Undici['buildConnector']>>[0], callback: Parameters<ReturnType<Undici['buildConnector']>>[1]) => unknown;

const openSockets = new Set<Socket>();
/**
 * A connector that remembers each socket it opens until the socket closes.
 * A request's deadline ends the request (send() races it), but not a
 * connection still in its TLS handshake: undici keeps that one, ref'd, until
 * its own connect timeout, and Agent.destroy() does not end it, so a process
 * would linger 10 s after its answer. closeHttpAgents() destroys them all.
 */
export function trackSockets<C extends Connector>(connect: C): C {
  return ((options, callback) => {
    const socket = connect(options, callback) as Socket | undefined;
    if (socket && typeof socket.once === 'function') {
      openSockets.add(socket);
      socket.once('close', () => openSockets.delete(socket));
    }
    return socket;
  }) as C;
}

/** Ends every socket the tracked connectors opened: for a process about to exit. */
export function destroyOpenSockets(): void {
  for (const socket of openSockets) socket.destroy();
  openSockets.clear();
}

const directAgents = new Map<number, Dispatcher>();
function directAgent(connectTimeoutMs: number): Dispatcher {
  let agent = directAgents.get(connectTimeoutMs);
  if (!agent) {
    agent = new (undici().Agent)({ connect: trackSockets(undici().buildConnector({ timeout: connectTimeoutMs })), keepAliveTimeout: 1000 });
    directAgents.set(connectTimeoutMs, agent);
  }
  return agent;
}

const pinnedAgents = new Map<string, Dispatcher>();
/**
 * A direct dispatcher (no proxy) that accepts a TLS server only when its
 * certificate's SHA-1 thumbprint is `thumbprint` (case-insensitive), whatever
 * its chain: Service Fabric's token service presents a self-signed
 * certificate named by IDENTITY_SERVER_THUMBPRINT. The check runs after the
 * handshake and before any byte of the request; sessions are not resumed, so
 * every connection shows its certificate.
 */
export function pinnedTlsAgent(thumbprint: string): Dispatcher {
  const expected = thumbprint.replace(/[^0-9a-f]/gi, '').toUpperCase();
  let agent = pinnedAgents.get(expected);
  if (!agent) {
    const u = undici();
    const connect = trackSockets(u.buildConnector({ rejectUnauthorized: false, maxCachedSessions: 0 }));
    agent = new u.Agent({
      keepAliveTimeout: 1000,
      connect: (options, callback) =>
        connect(options, (err, socket) => {
          if (err || !socket) return callback(err ?? new Error('no socket'), null);
          const actual = (socket as TLSSocket).getPeerX509Certificate?.()?.fingerprint.replace(/:/g, '').toUpperCase() ?? 'none';
          if (actual !== expected) {
            socket.destroy();
            return callback(new CertificatePinError(actual, expected), null);
          }
          callback(null, socket);
        }),
    });
    pinnedAgents.set(expected, agent);
  }
  return agent;
}

/**
 * Ends the pooled connections so that a short-lived process can exit at once: destroyed, not closed, since
 * close() would wait for a connection still being set up after its request's deadline ended it (up to the connect timeout).
 */
export async function closeHttpAgents(): Promise<void> {
  const agents = [...directAgents.values(), ...pinnedAgents.values()];
  directAgents.clear();
  pinnedAgents.clear();
  destroyOpenSockets();
  await Promise.all(agents.map((a) => a.destroy().catch(() => undefined)));
}

/**
 * One attempt of a retried exchange: send() with the request's timeout cut
 * to what is left before `deadline`, and, on a probe, a short connection
 * set-up limit (`probeConnectMs`) so that an endpoint that is not there fails fast.
 */
export function sendBefore(
  req: Omit<HttpRequest, 'timeoutMs' | 'connectTimeoutMs'>,
  limits: { deadline: number; now: number; requestTimeoutMs: number; probeConnectMs?: number },
): Promise<HttpResponse> {
  const remaining = Math.max(1, limits.deadline - limits.now);
  return send({
    ...req,
    timeoutMs: Math.min(limits.requestTimeoutMs, remaining),
    connectTimeoutMs: limits.probeConnectMs === undefined ? undefined : Math.min(limits.probeConnectMs, remaining),
  });
}

/**
 * Whether a probe's failure means nothing is there: anything but a timeout
 * after the connection was made (refused, unreachable, connection set-up
 * timed out). Callers handle tooLarge and tls first.
 */
export function nothingThere(e: HttpNetworkError): boolean {
  return e.failure !== 'timeout' || /connect/i.test(e.detail);
}

export async function send(req: HttpRequest): Promise<HttpResponse> {
  const maxBytes = req.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!req.dispatcher && req.url.startsWith('http:')) return sendPlain(req, maxBytes);
  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  // undici does not abort a request while its connection is being set up (a TLS handshake that never comes holds it
  // to the dispatcher's connect timeout): the deadline is raced, so the exchange ends at it whatever the stage.
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
      reject(new HttpNetworkError('timeout', req.url, `no complete answer within ${req.timeoutMs} ms`));
    }, req.timeoutMs);
  });
  const exchange = exchangeUndici(req, maxBytes, controller.signal);
  exchange.catch(() => undefined);
  try {
    return await Promise.race([exchange, expired]);
  } catch (e) {
    if (e instanceof HttpNetworkError) throw e;
    throw classify(e, req.url, timedOut);
  } finally {
    clearTimeout(timer);
  }
}

async function exchangeUndici(req: HttpRequest, maxBytes: number, signal: AbortSignal): Promise<HttpResponse> {
  const url = new URL(req.url);
  const dispatcher = req.dispatcher ?? directAgent(req.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  const res = await dispatcher.request({
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
    headers: req.headers,
    body: req.body,
    signal,
    headersTimeout: req.timeoutMs,
    bodyTimeout: req.timeoutMs,
  });
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    // A body destroyed unread emits an AbortError: without a listener it would end the process.
    res.body.on('error', () => undefined).destroy();
    throw new HttpNetworkError('tooLarge', req.url, `content-length ${declared} > ${maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > maxBytes) {
      res.body.destroy();
      throw new HttpNetworkError('tooLarge', req.url, `more than ${maxBytes} bytes`);
    }
    chunks.push(buf);
  }
  return { status: res.statusCode, headers: flattenHeaders(res.headers), body: Buffer.concat(chunks).toString('utf8') };
}

/**
 * send() over Node's http module for a plain-HTTP endpoint reached directly:
 * the same limits (connection set-up, whole exchange, size) and the same
 * HttpNetworkError classification as the undici path.
 */
function sendPlain(req: HttpRequest, maxBytes: number): Promise<HttpResponse> {
  const http = require('node:http') as typeof import('node:http');
  const connectTimeoutMs = Math.min(req.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, req.timeoutMs);
  return new Promise((resolve, reject) => {
    let request: ClientRequest | undefined;
    let connectTimer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (error: HttpNetworkError | undefined, response?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(connectTimer);
      if (error) {
        request?.destroy();
        reject(error);
      } else resolve(response!);
    };
    const timer = setTimeout(() => finish(new HttpNetworkError('timeout', req.url, `no complete answer within ${req.timeoutMs} ms`)), req.timeoutMs);
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    try {
      // agent: false, a fresh agent with no proxy: Node 24's global agent sends through HTTP_PROXY when NODE_USE_ENV_PROXY is set.
      request = http.request(req.url, { method: req.method ?? 'GET', headers, agent: false });
    } catch (e) {
      return finish(classify(e, req.url, false));
    }
    request.on('socket', (socket: Socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(
        () => finish(new HttpNetworkError('timeout', req.url, `connect timeout: no connection within ${connectTimeoutMs} ms`)),
        connectTimeoutMs,
      );
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    request.on('error', (e) => finish(classify(e, req.url, false)));
    request.on('response', (res: IncomingMessage) => {
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        return finish(new HttpNetworkError('tooLarge', req.url, `content-length ${declared} > ${maxBytes}`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) return finish(new HttpNetworkError('tooLarge', req.url, `more than ${maxBytes} bytes`));
        chunks.push(chunk);
      });
      res.on('error', (e) => finish(classify(e, req.url, false)));
      res.on('close', () => {
        if (!res.complete) finish(new HttpNetworkError('other', req.url, 'the connection closed before the whole answer arrived'));
      });
      res.on('end', () =>
        finish(undefined, { status: res.statusCode ?? 0, headers: flattenHeaders(res.headers), body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    request.end(req.body);
  });
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function classify(e: unknown, url: string, timedOut: boolean): HttpNetworkError {
  const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.cause?.code ?? err.code ?? '';
  const detail = [code, err.cause?.message ?? err.message].filter(Boolean).join(' ');
  if (timedOut || /TIMEOUT|ETIMEDOUT/.test(code)) return new HttpNetworkError('timeout', url, detail || 'timed out', e);
  if (code === 'ECONNREFUSED') return new HttpNetworkError('refused', url, detail, e);
  if (/EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN/.test(code)) {
    return new HttpNetworkError('unreachable', url, detail, e);
  }
  if (/CERT|SSL|TLS|ERR_TLS/i.test(code) || /certificate|thumbprint/i.test(detail)) {
    return new HttpNetworkError('tls', url, detail, e);
  }
  return new HttpNetworkError('other', url, detail || String(e), e);
}
