/**
 * Reads the JSON answer of a managed identity endpoint: a token on success,
 * and on failure an error that says what to do. The raw body is never put in
 * a message: it may hold a token.
 */
import { ManagedIdentityError } from './errors';
import { parseExpiresIn, parseExpiresOn } from './expiry';
import type { HttpResponse } from './http';
import type { AccessToken } from './sources/types';
import { redactJwts } from './jwt';
import { inertLogText } from './log-text';

type Json = Record<string, unknown>;

export function parseJsonObject(body: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
  } catch {
    return undefined;
  }
}

export function parseTokenResponse(label: string, res: HttpResponse, nowMs: number): AccessToken {
  const json = parseJsonObject(res.body);
  if (!json) throw new ManagedIdentityError('badResponse', 'ResponseNotJson', label, res.status, Buffer.byteLength(res.body));
  const token = json.access_token;
  if (typeof token !== 'string' || token.length === 0) {
    // Field names come from the answer too: each cut short and cleaned like any text from it.
    const fields = Object.keys(json).slice(0, 10).map((k) => sanitize(k).slice(0, 40));
    throw new ManagedIdentityError('badResponse', 'ResponseNoToken', label, res.status, fields.join(', ') || 'none');
  }
  const expiresOn =
    json.expires_on !== undefined ? parseExpiresOn(json.expires_on) : parseExpiresIn(json.expires_in, nowMs);
  if (!expiresOn) {
    throw new ManagedIdentityError('badResponse', 'ResponseBadExpiry', label, shownValue(json.expires_on ?? json.expires_in));
  }
  return {
    token,
    expiresOn,
    resource: typeof json.resource === 'string' ? json.resource : undefined,
    clientId: typeof json.client_id === 'string' ? json.client_id : typeof json.clientid === 'string' ? json.clientid : undefined,
  };
}

/**
 * A field's value as a message may show it: a string, number or boolean cut to 40 characters, else its
 * kind. Never String() of an object: an answer can give it a "toString" that is not a function.
 */
function shownValue(v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return sanitize(String(v).slice(0, 40));
  return v === null ? 'null' : v === undefined ? 'none' : Array.isArray(v) ? 'a list' : 'an object';
}

/** The error text of a failed answer: {error, error_description}, {error:{code,message}}, {message} or a short plain text. */
export function errorText(res: HttpResponse): string {
  const json = parseJsonObject(res.body);
  if (json) {
    const err = json.error;
    if (err && typeof err === 'object') {
      const e = err as Json;
      return sanitize([e.code, e.message].filter((v) => typeof v === 'string').join(': ')) || 'no error description';
    }
    const parts = [err, json.error_description ?? json.message ?? json.Message].filter((v) => typeof v === 'string');
    if (parts.length) return sanitize(parts.join(': '));
    return 'no error description';
  }
  return shortPlainText(res.body) ?? `${res.body.length} bytes, not JSON`;
}

/**
 * A short plain-text body as a message may show it, or undefined when it is
 * empty, long, or might hold a token (a JWT, or the words access_token or
 * refresh_token followed by anything).
 */
export function shortPlainText(body: string): string | undefined {
  if (body.length === 0 || body.length > 300 || body.includes('eyJ') || /(access|refresh)_?token/i.test(body)) return undefined;
  return sanitize(body);
}

/**
 * One line as inertLogText makes it (no control character, no ##vso[ command), nothing that looks like a JWT or a piece of one (100 or more base64url
 * characters in a row: a payload or signature whose header was cut off), at most 1000 characters: safe to put in a message.
 */
export function sanitize(text: string): string {
  // Cut before the rest: an answer may be a megabyte, and only the start is shown (a token cut in two is still redacted).
  const line = inertLogText(text.slice(0, 2000));
  return redactJwts(line).replace(/[\w-]{100,}/g, '<token removed>').slice(0, 1000);
}

/** Where services put the IDs support asks for: App Service's and Service Fabric's body (correlationId), Entra ID's body (correlation_id, trace_id). */
const SUPPORT_FIELDS = ['correlationId', 'correlation_id', 'trace_id'] as const;
/** Resource Manager's and Key Vault's (and Entra ID's) headers; Azure DevOps's ActivityId and X-VSS-E2EID. */
const SUPPORT_HEADERS = ['x-ms-request-id', 'x-ms-correlation-request-id', 'activityid', 'x-vss-e2eid'] as const;
/** An ID is a GUID or like one: nothing else from an answer (never a token) goes into a message this way. */
const SUPPORT_ID = /^[0-9A-Za-z-]{8,64}$/;

/**
 * The service's correlation and request IDs in an answer, as "name value"
 * pairs, each value once, or undefined when it gave none. `shown` is text
 * the message already holds: an ID in it (Entra ID's description names its
 * trace and correlation IDs) is not repeated.
 */
export function supportDetails(res: HttpResponse, shown = ''): string | undefined {
  const json = parseJsonObject(res.body) ?? {};
  // Service Fabric nests its correlationId in {error: {...}}.
  const inner = json.error !== null && typeof json.error === 'object' && !Array.isArray(json.error) ? (json.error as Json) : {};
  const pairs: Array<[string, unknown]> = [
    ...SUPPORT_FIELDS.map((f): [string, unknown] => [f, json[f] ?? inner[f]]),
    ...SUPPORT_HEADERS.map((h): [string, unknown] => [h, res.headers[h]]),
  ];
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const [name, value] of pairs) {
    if (typeof value !== 'string' || !SUPPORT_ID.test(value.trim())) continue;
    const id = value.trim();
    if (seen.has(id.toLowerCase()) || shown.toLowerCase().includes(id.toLowerCase())) continue;
    seen.add(id.toLowerCase());
    kept.push(`${name} ${id}`);
  }
  return kept.length ? kept.join(', ') : undefined;
}

/** The error, with the answer's support IDs kept (see supportDetails). */
export function withSupport(error: ManagedIdentityError, res: HttpResponse): ManagedIdentityError {
  const details = supportDetails(res, error.message);
  return details ? error.addSupport(details) : error;
}

/** Maps a refusal to the advice that fits it. */
export function refusal(label: string, res: HttpResponse, resource: string): ManagedIdentityError {
  const text = errorText(res);
  if (/identity (?:was )?not found|no managed identity|not assigned|unable to load the proper managed identity/i.test(text)) {
    return new ManagedIdentityError('refused', 'IdentityNotFound', label, text);
  }
  if (/multiple user assigned identities/i.test(text)) {
    return new ManagedIdentityError('refused', 'MultipleIdentities', label, text);
  }
  if (/invalid_resource|AADSTS500011|resource principal|not a supported MSI token audience/i.test(text)) {
    return new ManagedIdentityError('refused', 'UnknownResource', label, resource, text);
  }
  return new ManagedIdentityError('refused', 'EndpointRefused', label, res.status, text);
}
