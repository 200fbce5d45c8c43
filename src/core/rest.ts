/**
 * GET requests to Azure REST services (Resource Manager, Key Vault, the
 * instance metadata): retries, the bearer-token guard, JSON bodies and
 * nextLink paging. The services' own error codes are mapped by their modules
 * (arm.ts, keyvault.ts); this module only says what the network did.
 *
 * Retries: 429 and 503 honour Retry-After (seconds); 500, 502, 504 and
 * network failures back off exponentially; all within one deadline per call.
 */
import type { Dispatcher } from 'undici';
import { ManagedIdentityError } from './errors';
import { HttpNetworkError, HttpResponse, nothingThere, sendBefore } from './http';
import { asObject, asString, isJsonObject, Json } from './json';
import { dispatcherFor, DIRECT, NetworkSettings } from './network';
import { Attempt, Clock, parseRetryAfter, realClock, retrying, RetryEvent, RetryPolicy } from './retry';
import { parseJsonObject, sanitize, shortPlainText } from './token-response';
import { schemeAllowed } from './url';

export interface RestOptions {
  /** The agent's proxy and certificates (never used for the instance metadata). */
  network?: NetworkSettings;
  /** How long one call may take, retries included, in seconds (default 120). */
  timeoutSeconds?: number;
  /** One request's limit, in ms (default 30 s, never past the deadline). */
  requestTimeoutMs?: number;
  clock?: Clock;
  retryPolicy?: Partial<RetryPolicy>;
  onRetry?: (event: RetryEvent & { source: string }) => void;
  /** The most pages one list may have (default 100). */
  maxPages?: number;
  /** The largest answer accepted, in bytes (default 16 MiB: a page of 1,000 resources is well below). */
  maxBytes?: number;
}

/** One GET, to be retried. */
export interface RetriedGet {
  url: string;
  headers?: Record<string, string>;
  /** Default: direct, no proxy. */
  dispatcher?: Dispatcher;
  /** A probed endpoint that cannot be connected to on the first try is not there: fail at once. */
  probe?: { connectTimeoutMs: number };
}

const WITH_RETRY_AFTER = new Set([429, 503]);
const WITH_BACKOFF = new Set([500, 502, 504]);
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

/** The answer that was still retryable when the retries ran out: the caller maps it like any other. */
class LastAnswer extends Error {
  constructor(readonly res: HttpResponse) {
    super(`HTTP ${res.status}`);
  }
}

/** GETs with retries; resolves with the final answer whatever its status, throws when no answer came. */
export async function getRetrying(req: RetriedGet, label: string, options: RestOptions = {}): Promise<HttpResponse> {
  const clock = options.clock ?? realClock;
  const timeoutSeconds = options.timeoutSeconds ?? 120;
  const deadline = clock.now() + timeoutSeconds * 1000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const attempt = async (n: number): Promise<Attempt<HttpResponse>> => {
    const probing = req.probe !== undefined && n === 1;
    let res: HttpResponse;
    try {
      res = await sendBefore(
        { url: req.url, headers: req.headers, dispatcher: req.dispatcher, maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES },
        { deadline, now: clock.now(), requestTimeoutMs, probeConnectMs: probing ? req.probe?.connectTimeoutMs : undefined },
      );
    } catch (e) {
      if (!(e instanceof HttpNetworkError)) throw e;
      const absent = probing && nothingThere(e);
      const retryable = !absent && e.failure !== 'tooLarge' && e.failure !== 'tls';
      return { ok: false, retryable, reason: e.failure, error: networkError(label, e, timeoutSeconds, options.maxBytes ?? DEFAULT_MAX_BYTES) };
    }
    if (!WITH_RETRY_AFTER.has(res.status) && !WITH_BACKOFF.has(res.status)) return { ok: true, value: res };
    return {
      ok: false,
      retryable: true,
      reason: `HTTP ${res.status}`,
      error: new LastAnswer(res),
      retryAfterMs: WITH_RETRY_AFTER.has(res.status) ? parseRetryAfter(res.headers['retry-after'], clock.now()) : undefined,
    };
  };
  try {
    return await retrying(attempt, {
      deadline,
      clock,
      policy: options.retryPolicy,
      onRetry: (event) => options.onRetry?.({ ...event, source: label }),
    });
  } catch (e) {
    if (e instanceof LastAnswer) return e.res;
    throw e;
  }
}

function networkError(label: string, e: HttpNetworkError, timeoutSeconds: number, maxBytes: number): ManagedIdentityError {
  const where = new URL(e.url).origin;
  switch (e.failure) {
    case 'timeout':
      return new ManagedIdentityError('timeout', 'ServiceTimeout', label, where, timeoutSeconds);
    case 'tooLarge':
      return new ManagedIdentityError('badResponse', 'ServiceResponseTooLarge', label, maxBytes);
    case 'tls':
      return new ManagedIdentityError('noEndpoint', 'ServiceTls', label, where, e.detail);
    default:
      return new ManagedIdentityError('noEndpoint', 'ServiceUnreachable', label, where, e.detail);
  }
}

/** A token is only ever sent over https, or over http to a loopback address; anything else is refused before sending. */
export function assertBearerUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ManagedIdentityError('badInput', 'BearerNotHttps', url.slice(0, 200));
  }
  if (schemeAllowed(u, 'httpsOrLoopback')) return u;
  throw new ManagedIdentityError('badInput', 'BearerNotHttps', u.origin === 'null' ? `${u.protocol}//${u.host}` : u.origin);
}

/**
 * GET with "Authorization: Bearer", through the agent's proxy and certificates, retried.
 * Without a token (undefined): the same GET unauthenticated, to be answered with a challenge.
 */
export async function getWithToken(url: string, token: string | undefined, label: string, options: RestOptions = {}): Promise<HttpResponse> {
  assertBearerUrl(url);
  return getRetrying(
    {
      url,
      headers: token === undefined ? { Accept: 'application/json' } : { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      dispatcher: dispatcherFor(url, options.network ?? DIRECT),
    },
    label,
    options,
  );
}

export type { Json } from './json';

/** A 2xx answer's JSON object body. */
export function jsonBody(res: HttpResponse, label: string, url: string): Json {
  const json = parseJsonObject(res.body);
  if (!json) throw new ManagedIdentityError('badResponse', 'ServiceNotJson', label, res.status, Buffer.byteLength(res.body), new URL(url).origin);
  return json;
}

export interface ServiceError {
  code: string;
  message: string;
  /** error.innererror.code, as Key Vault sends it. */
  innerCode?: string;
}

/** The {error:{code,message,innererror}} of a failed answer, made safe for a message. */
export function serviceError(res: HttpResponse): ServiceError {
  const json = parseJsonObject(res.body);
  const err = json?.error;
  if (isJsonObject(err)) {
    const inner = asString(asObject(err.innererror).code);
    return {
      code: code(err.code) ?? '',
      message: typeof err.message === 'string' ? sanitize(err.message) : '',
      innerCode: code(inner),
    };
  }
  const text = shortPlainText(res.body) ?? `${res.body.length} bytes`;
  return { code: '', message: typeof err === 'string' ? sanitize(err) : text };
}

/** An error code as a message may show it (codes are short words; anything else is cut). */
function code(v: unknown): string | undefined {
  return typeof v === 'string' ? sanitize(v).slice(0, 100) : undefined;
}

export interface Page<T> {
  value: T[];
  nextLink?: string;
}

/**
 * Follows nextLink, as given, from the first page to the last. A nextLink that
 * repeats, points at another host, or more than maxPages pages, is an error.
 */
export async function collectPages<T>(firstUrl: string, label: string, maxPages: number, fetchPage: (url: string) => Promise<Page<T>>): Promise<T[]> {
  const origin = new URL(firstUrl).origin;
  const seen = new Set<string>();
  const items: T[] = [];
  let url: string | undefined = firstUrl;
  while (url) {
    const href = linkHref(url, firstUrl, label);
    if (new URL(href).origin !== origin) throw new ManagedIdentityError('badResponse', 'NextLinkOtherHost', label, sanitize(new URL(href).origin).slice(0, 200));
    if (seen.has(href)) throw new ManagedIdentityError('badResponse', 'NextLinkRepeated', label, seen.size);
    if (seen.size >= maxPages) throw new ManagedIdentityError('badResponse', 'TooManyPages', label, maxPages);
    seen.add(href);
    const page = await fetchPage(href);
    for (const item of page.value) items.push(item);
    url = page.nextLink || undefined;
  }
  return items;
}

/** A nextLink resolved against the first page's URL; one that is not a URL stops the list. */
function linkHref(link: string, base: string, label: string): string {
  try {
    return new URL(link, base).href;
  } catch {
    throw new ManagedIdentityError('badResponse', 'NextLinkInvalid', label, sanitize(link).slice(0, 200));
  }
}

/** The value and nextLink of a list page. */
export function pageOf<T>(json: Json): Page<T> {
  return {
    value: Array.isArray(json.value) ? (json.value as T[]) : [],
    nextLink: typeof json.nextLink === 'string' && json.nextLink ? json.nextLink : undefined,
  };
}
