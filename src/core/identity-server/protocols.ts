/**
 * The managed identity protocols the identity server speaks, each read and
 * answered in its own shape (as the emulator's hosts answer them):
 *
 * - App Service 2019-08-01 (IDENTITY_ENDPOINT + IDENTITY_HEADER): GET /msi/token?api-version=2019-08-01&resource=…
 *   with X-IDENTITY-HEADER; client_id, principal_id (object_id) or mi_res_id. @azure/identity, MSAL,
 *   Python azure-identity and our own tasks use it.
 * - App Service 2017-09-01 (MSI_ENDPOINT + MSI_SECRET): GET …?api-version=2017-09-01&resource=… with the
 *   header "secret"; clientid.
 * - The Azure CLI's MSI_ENDPOINT POST (msrestazure): a form resource=…[&client_id|object_id|msi_res_id] with
 *   "Metadata: true" and no secret at all, so MSI_ENDPOINT carries the secret in its path.
 * - IMDS (ARM_MSI_ENDPOINT, Terraform's go-azure-sdk): GET …/metadata/identity/oauth2/token?api-version=…&resource=…
 *   with "Metadata: true" and no secret either: the secret is in the path here too.
 *
 * Paths: /msi/token (header secret), /<secret>/msi/token and /<secret>/metadata/identity/oauth2/token
 * (with or without a trailing slash). Anything else is refused before any token is asked for.
 */
import { randomUUID } from 'node:crypto';
import { isGuid } from '../audience';
import { isManagedIdentityError } from '../errors';
import { IdentityIdType, IdentitySelector, userAssigned } from '../identity';
import { secretMatches } from './guard';

export type ProtocolName = 'appService' | 'appServiceLegacy' | 'azureCliPost' | 'imds';

export interface ParsedRequest {
  method: string;
  /** The path, without the query. */
  path: string;
  query: URLSearchParams;
  header(name: string): string | undefined;
  body: string;
}

export interface TokenAsk {
  protocol: ProtocolName;
  /** The resource as the client wrote it (one trailing /.default removed). */
  resource: string;
  /** The identity the request names; undefined: the server's chosen identity. */
  identity?: IdentitySelector;
}

export interface Refusal {
  status: number;
  code: string;
  message: string;
}

export type Parsed = { ok: true; ask: TokenAsk } | { ok: false; protocol?: ProtocolName; refusal: Refusal };

const IMDS_PATH = '/metadata/identity/oauth2/token';
const MSI_PATH = '/msi/token';
export const APP_SERVICE_VERSION = '2019-08-01';
export const LEGACY_VERSION = '2017-09-01';
const IMDS_VERSION = /^\d{4}-\d{2}-\d{2}$/;
/** Generous for any resource URI or scope a client sends. */
const MAX_RESOURCE = 1024;
const RESOURCE_URI = /^[a-z][a-z0-9+.-]*:\/\/[^\s#\u0000-\u001f\u007f]+$/i;

/** The paths a client is given: the header-secret one, and the path-secret ones. */
export function serverPaths(secret: string): { appService: string; msiEndpoint: string; imds: string } {
  return { appService: MSI_PATH, msiEndpoint: `/${secret}${MSI_PATH}`, imds: `/${secret}${IMDS_PATH}` };
}

const refuse = (status: number, code: string, message: string, protocol?: ProtocolName): Parsed => ({ ok: false, protocol, refusal: { status, code, message } });

/** Which protocol a request speaks and what it asks for, or why it is refused (the secret is checked here). */
export function parseTokenRequest(req: ParsedRequest, secret: string): Parsed {
  const path = req.path.replace(/\/$/, '');
  if (path === MSI_PATH) return headerSecretRequest(req, secret);
  // /<secret>/… : compare the whole first segment in constant time.
  const m = /^\/([^/]*)(\/.*)$/.exec(path);
  if (m && (m[2] === MSI_PATH || m[2] === IMDS_PATH)) {
    if (!secretMatches(m[1], secret)) return refuse(404, 'not_found', 'No such endpoint.');
    return m[2] === IMDS_PATH ? imdsRequest(req) : msiEndpointRequest(req, secret);
  }
  return refuse(404, 'not_found', 'No such endpoint.');
}

function headerSecretRequest(req: ParsedRequest, secret: string): Parsed {
  if (req.method !== 'GET') return refuse(405, 'method_not_allowed', `${req.method} is not allowed here; the token endpoint takes GET.`, 'appService');
  const version = req.query.get('api-version');
  if (version === LEGACY_VERSION) {
    if (!secretMatches(req.header('secret'), secret)) return refuse(401, 'unauthorized', 'The secret header is missing or not valid.', 'appServiceLegacy');
    return legacyAsk(req);
  }
  if (!secretMatches(req.header('x-identity-header'), secret)) return refuse(401, 'unauthorized', 'The X-IDENTITY-HEADER header is missing or not valid.', 'appService');
  if (version !== APP_SERVICE_VERSION) {
    return refuse(400, 'invalid_request', `The api-version '${version ?? ''}' is not supported by this endpoint. Use ${APP_SERVICE_VERSION}.`, 'appService');
  }
  return ask('appService', req.query, { clientId: ['client_id'], objectId: ['principal_id', 'object_id'], resourceId: ['mi_res_id'] });
}

/** /<secret>/msi/token: the 2017-09-01 GET (its own secret header as well) or the Azure CLI's POST. */
function msiEndpointRequest(req: ParsedRequest, secret: string): Parsed {
  if (req.method === 'GET') {
    if (!secretMatches(req.header('secret'), secret)) return refuse(401, 'unauthorized', 'The secret header is missing or not valid.', 'appServiceLegacy');
    if (req.query.get('api-version') !== LEGACY_VERSION) {
      return refuse(400, 'invalid_request', `The api-version '${req.query.get('api-version') ?? ''}' is not supported by this endpoint. Use ${LEGACY_VERSION}.`, 'appServiceLegacy');
    }
    return legacyAsk(req);
  }
  if (req.method !== 'POST') return refuse(405, 'method_not_allowed', `${req.method} is not allowed here; use GET or POST.`, 'azureCliPost');
  if (req.header('metadata') !== 'true') return refuse(400, 'invalid_request', 'Required metadata header not specified', 'azureCliPost');
  if (!/^application\/x-www-form-urlencoded\b/i.test(req.header('content-type') ?? '')) {
    return refuse(400, 'invalid_request', 'The request body must be application/x-www-form-urlencoded', 'azureCliPost');
  }
  return ask('azureCliPost', new URLSearchParams(req.body), { clientId: ['client_id'], objectId: ['object_id'], resourceId: ['msi_res_id'] });
}

function legacyAsk(req: ParsedRequest): Parsed {
  return ask('appServiceLegacy', req.query, { clientId: ['clientid'] });
}

function imdsRequest(req: ParsedRequest): Parsed {
  if (req.method !== 'GET') return refuse(405, 'method_not_allowed', `${req.method} is not allowed here; the token endpoint takes GET.`, 'imds');
  if (req.header('metadata') !== 'true') return refuse(400, 'bad_request_102', 'Required metadata header not specified', 'imds');
  const version = req.query.get('api-version');
  if (!version) return refuse(400, 'invalid_request', "Required query variable 'api-version' is missing", 'imds');
  if (!IMDS_VERSION.test(version)) return refuse(400, 'invalid_request', `Unsupported api-version ${version}`, 'imds');
  return ask('imds', req.query, { clientId: ['client_id'], objectId: ['object_id'], resourceId: ['msi_res_id'] });
}

/** The resource and the identity a request names, each parameter validated (a typo is refused, never sent upstream). */
function ask(protocol: ProtocolName, params: URLSearchParams, names: Partial<Record<IdentityIdType, string[]>>): Parsed {
  const raw = params.getAll('resource');
  if (raw.length !== 1 || !raw[0].trim()) return refuse(400, 'invalid_request', "Exactly one 'resource' parameter is required.", protocol);
  const resource = raw[0].trim().replace(/\/\.default$/i, '');
  if (resource.length > MAX_RESOURCE || !(isGuid(resource) || RESOURCE_URI.test(resource))) {
    return refuse(400, 'invalid_resource', `The resource '${resource.slice(0, 100)}' is not a URI or an application ID.`, protocol);
  }
  const given = (Object.entries(names) as Array<[IdentityIdType, string[]]>).flatMap(([kind, ps]) => ps.filter((p) => params.has(p)).map((p) => [kind, p] as const));
  if (given.length > 1 || given.some(([, p]) => params.getAll(p).length > 1)) {
    return refuse(400, 'invalid_request', `Name at most one identity (one of ${Object.values(names).flat().join(', ')}).`, protocol);
  }
  if (!given.length) return { ok: true, ask: { protocol, resource } };
  const [kind, param] = given[0];
  try {
    return { ok: true, ask: { protocol, resource, identity: userAssigned(kind, params.get(param) ?? '') } };
  } catch (e) {
    return refuse(400, 'invalid_request', isManagedIdentityError(e) ? e.message : String(e), protocol);
  }
}

export interface TokenAnswer {
  token: string;
  expiresOn: Date;
  clientId?: string;
  resource: string;
  nowMs: number;
}

export interface HttpAnswer {
  status: number;
  body: Record<string, string | number>;
}

/** The token in the protocol's own answer shape. Every time is epoch seconds as a string (the 2017-09-01 date form is parsed by fewer clients). */
export function tokenAnswer(protocol: ProtocolName, a: TokenAnswer): HttpAnswer {
  const exp = Math.floor(a.expiresOn.getTime() / 1000);
  const now = Math.floor(a.nowMs / 1000);
  const base = { access_token: a.token, expires_on: String(exp), resource: a.resource, token_type: 'Bearer' };
  const clientId: Record<string, string> = a.clientId ? { client_id: a.clientId } : {};
  switch (protocol) {
    case 'appService':
      return { status: 200, body: { ...base, ...clientId } };
    case 'appServiceLegacy':
      return { status: 200, body: base };
    case 'azureCliPost':
    case 'imds': {
      const left = String(Math.max(0, exp - now));
      return { status: 200, body: { ...base, ...clientId, expires_in: left, ext_expires_in: left, not_before: String(now) } };
    }
  }
}

/** A refusal in the protocol's own error shape (IMDS's when the protocol is not known yet). */
export function errorAnswer(protocol: ProtocolName | undefined, r: Refusal): HttpAnswer {
  if (protocol === 'appService' || protocol === 'appServiceLegacy') {
    return { status: r.status, body: { statusCode: r.status, message: r.message, correlationId: randomUUID() } };
  }
  return { status: r.status, body: { error: r.code, error_description: r.message } };
}
