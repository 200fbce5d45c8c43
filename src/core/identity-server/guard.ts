/**
 * The identity server's first line: what every request must pass before its
 * protocol is even looked at. The server listens on the loopback address only;
 * here the Host header must name that address and port (a page that rebinds a
 * DNS name to 127.0.0.1 sends its own name), a request from a browser (Origin)
 * or through a proxy (X-Forwarded-For, Forwarded) is refused, and the URL and
 * body are bounded. Secrets are compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 random bits, as 64 hex digits: the header/secret every request must carry. */
export function newServerSecret(): string {
  return randomBytes(32).toString('hex');
}

/** Whether `given` equals `expected`, in time that does not depend on where they differ (or on their lengths). */
export function secretMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined || !expected) return false;
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/** The longest request target (path and query) the server reads. */
export const MAX_URL_BYTES = 4096;
/** The longest body (the Azure CLI's form) the server reads. */
export const MAX_BODY_BYTES = 4096;

export type GuardRefusal = { status: number; code: string; message: string };

export interface GuardedRequest {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Why a request is refused before its protocol is read, or undefined when it may go on. */
export function guardRequest(req: GuardedRequest, host: string): GuardRefusal | undefined {
  const url = req.url ?? '';
  if (Buffer.byteLength(url) > MAX_URL_BYTES) return { status: 414, code: 'uri_too_long', message: `The request target is longer than ${MAX_URL_BYTES} bytes.` };
  const h = req.headers;
  if (one(h.host)?.toLowerCase() !== host) {
    return { status: 403, code: 'invalid_host', message: `The Host header must be ${host}: this endpoint answers only requests addressed to it on the loopback address.` };
  }
  if (h.origin !== undefined) return { status: 403, code: 'origin_refused', message: 'Requests from a web page (with an Origin header) are refused.' };
  if (h['x-forwarded-for'] !== undefined || h.forwarded !== undefined) {
    return { status: 400, code: 'invalid_request', message: 'Request contains X-Forwarded-For or Forwarded header; requests through a proxy are not allowed.' };
  }
  const length = Number(one(h['content-length']) ?? '0');
  if (!Number.isFinite(length) || length > MAX_BODY_BYTES) return { status: 413, code: 'body_too_large', message: `The request body is longer than ${MAX_BODY_BYTES} bytes.` };
  return undefined;
}
