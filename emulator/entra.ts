/**
 * Microsoft Entra ID's v2 token endpoint, for workload identity federation:
 * POST /{tenant}/oauth2/v2.0/token with the form grant_type=client_credentials,
 * client_id, scope=<resource>/.default, client_assertion and
 * client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer.
 * The assertion (a Kubernetes service account token) is checked against the
 * federated credentials of the user-assigned identity client_id names: issuer,
 * subject, audience and validity time. Success is {token_type, expires_in,
 * ext_expires_in (numbers), access_token}; refusals have Entra's shape
 * {error, error_description, error_codes, timestamp, trace_id,
 * correlation_id, error_uri} with the AADSTS code a real tenant uses.
 *
 * Served over HTTPS (workloadIdentityEnv points AZURE_AUTHORITY_HOST at the
 * HTTPS listener: MSAL refuses an http authority), with the OpenID discovery
 * document MSAL reads before it asks for a token:
 * GET /{tenant}/v2.0/.well-known/openid-configuration, whose issuer and
 * endpoints are on the origin it was asked on (MSAL checks that the issuer
 * is). MSAL's instance discovery asks login.microsoftonline.com itself, so
 * clients turn it off for this authority (@azure/identity's managed identity
 * token exchange does; otherwise disableInstanceDiscovery / knownAuthorities).
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { decodeJwtClaims } from '../src/core/jwt';
import { AGENT_SERVICE_ACCOUNT, EmulatedIdentity, TOKEN_EXCHANGE_AUDIENCE } from './identities';
import { unsignedJwt } from './jwt';
import type { Reply, RequestContext } from './server';
import { AzureEmulator } from './server';
import { mintFor, unknownResourceText } from './tokens';
import { tempFolder } from './temp';

export const ENTRA_TOKEN_ROUTE = 'entra.token';
export const ENTRA_DISCOVERY_ROUTE = 'entra.openid-configuration';
const TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token$/;
const DISCOVERY_PATH = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/;
const KEYS_PATH = /^\/([^/]+)\/discovery\/v2\.0\/keys$/;
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const WIF_DOCS = 'https://learn.microsoft.com/entra/workload-id/workload-identity-federation';

/** An Entra ID refusal in its real shape. */
export function aadsts(status: number, error: string, code: number, text: string): Reply {
  const trace = randomUUID();
  const correlation = randomUUID();
  const timestamp = `${new Date().toISOString().slice(0, 19).replace('T', ' ')}Z`;
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${correlation}\r\nTimestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: trace,
      correlation_id: correlation,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

export function registerEntra(emu: AzureEmulator): void {
  emu.route(ENTRA_TOKEN_ROUTE, 'POST', TOKEN_PATH, (ctx) => entraToken(emu, ctx));
  emu.route(ENTRA_DISCOVERY_ROUTE, 'GET', DISCOVERY_PATH, (ctx) => openIdConfiguration(emu, ctx));
  // The signing keys the discovery document names: none (the emulator's tokens are unsigned).
  emu.route('entra.keys', 'GET', KEYS_PATH, () => ({ status: 200, body: { keys: [] } }));
}

/** The token endpoint says invalid_request, the discovery document invalid_tenant. */
function tenantNotFound(tenant: string, error = 'invalid_request'): Reply {
  return aadsts(400, error, 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
}

/** The origin a request was made to, as the client wrote it (scheme, host and port). */
function originOf({ req, header }: RequestContext): string {
  return `${(req.socket as TLSSocket).encrypted ? 'https' : 'http'}://${header('host') ?? '127.0.0.1'}`;
}

/** The v2.0 OpenID Connect discovery document of the tenant, as Entra ID serves it (the fields MSAL reads, and their neighbours). */
function openIdConfiguration(emu: AzureEmulator, ctx: RequestContext): Reply {
  const tenant = ctx.match?.[1] ?? '';
  if (tenant.toLowerCase() !== emu.machine.tenantId.toLowerCase() && !['organizations', 'common'].includes(tenant.toLowerCase())) {
    return tenantNotFound(tenant, 'invalid_tenant');
  }
  const origin = originOf(ctx);
  const id = emu.machine.tenantId;
  return {
    status: 200,
    body: {
      token_endpoint: `${origin}/${id}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${origin}/${id}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${origin}/${id}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
      authorization_endpoint: `${origin}/${id}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${origin}/${id}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${origin}/${id}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
      kerberos_endpoint: `${origin}/${id}/kerberos`,
      tenant_region_scope: 'WW',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    },
  };
}

export interface FederatedTokenOptions {
  /** The user-assigned identity whose client ID the environment names (default: the first). */
  identity?: EmulatedIdentity;
  issuer?: string;
  subject?: string;
  audience?: string;
  /** Seconds until the token expires (negative: already expired). Default 3600. */
  lifetimeSeconds?: number;
}

/** A projected service account token as the kubelet writes it (unsigned), remembered for the secret scan. */
export function federatedToken(emu: AzureEmulator, options: FederatedTokenOptions = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + (options.lifetimeSeconds ?? 3600);
  const token = unsignedJwt({
    aud: [options.audience ?? TOKEN_EXCHANGE_AUDIENCE],
    exp,
    iat: Math.min(now, exp - 60),
    nbf: Math.min(now, exp - 60),
    iss: options.issuer ?? emu.machine.oidcIssuer,
    sub: options.subject ?? AGENT_SERVICE_ACCOUNT,
    'kubernetes.io': { namespace: 'azure-pipelines', pod: { name: 'agent-0', uid: randomUUID() }, serviceaccount: { name: 'agent', uid: randomUUID() } },
  });
  emu.secrets.push(token);
  return token;
}

/**
 * The environment of a pod with workload identity, pointing at this
 * emulator: AZURE_AUTHORITY_HOST (its HTTPS listener, as Entra ID is only
 * served over HTTPS), AZURE_TENANT_ID, AZURE_CLIENT_ID and
 * AZURE_FEDERATED_TOKEN_FILE (a fresh file holding a federated token); and,
 * so that a client process trusts the emulator's certificate,
 * NODE_EXTRA_CA_CERTS and REQUESTS_CA_BUNDLE (in-process code passes
 * emu.tls.pemFile as its CA file instead).
 */
export function workloadIdentityEnv(emu: AzureEmulator, options: FederatedTokenOptions = {}): Record<string, string> {
  const identity = options.identity ?? emu.machine.userAssigned[0];
  if (!identity) throw new Error('Workload identity needs a user-assigned identity: start the emulator with userAssigned: [...].');
  const file = join(tempFolder('azure-tokens-'), 'azure-identity-token');
  writeFileSync(file, `${federatedToken(emu, options)}\n`, { mode: 0o600 });
  return {
    AZURE_AUTHORITY_HOST: emu.httpsUrl,
    NODE_EXTRA_CA_CERTS: emu.tls.pemFile,
    REQUESTS_CA_BUNDLE: emu.tls.pemFile,
    AZURE_TENANT_ID: emu.machine.tenantId, AZURE_CLIENT_ID: identity.clientId, AZURE_FEDERATED_TOKEN_FILE: file,
  };
}

function entraToken(emu: AzureEmulator, { match, body }: RequestContext): Reply {
  const m = emu.machine;
  const tenant = match?.[1] ?? '';
  if (tenant.toLowerCase() !== m.tenantId.toLowerCase()) return tenantNotFound(tenant);
  const form = new URLSearchParams(body);
  for (const required of ['grant_type', 'client_id']) {
    if (!form.get(required)) return aadsts(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${required}'.`);
  }
  if (form.get('grant_type') !== 'client_credentials') return aadsts(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
  const clientId = form.get('client_id') ?? '';
  const assertion = form.get('client_assertion');
  if (!assertion) return aadsts(401, 'invalid_client', 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.");
  if (form.get('client_assertion_type') !== JWT_BEARER) return aadsts(400, 'invalid_request', 90014, "The required field 'client_assertion_type' is missing or not valid.");

  const identity = m.userAssigned.find((i) => i.clientId.toLowerCase() === clientId.toLowerCase());
  if (!identity) {
    return aadsts(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
  }
  const claims = decodeJwtClaims(assertion);
  if (!claims) return aadsts(401, 'invalid_client', 50027, 'JWT token is invalid or is malformed.');
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number' || claims.exp < now || (typeof claims.nbf === 'number' && claims.nbf > now + 300)) {
    return aadsts(401, 'invalid_client', 700024, `Client assertion is not within its valid time range. Current time: ${new Date(now * 1000).toISOString()}, expiry time of assertion ${new Date(Number(claims.exp) * 1000).toISOString()}.`);
  }
  const audiences = (Array.isArray(claims.aud) ? claims.aud : [claims.aud]).filter((a): a is string => typeof a === 'string');
  const credentials = m.federatedCredentials.filter((c) => c.identity === identity && c.issuer === claims.iss);
  if (!credentials.length) {
    return aadsts(401, 'invalid_client', 700211, `No matching federated identity record found for presented assertion issuer '${String(claims.iss)}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${WIF_DOCS}`);
  }
  if (!credentials.some((c) => c.subject === claims.sub && c.audiences.some((a) => audiences.includes(a)))) {
    return aadsts(400, 'invalid_request', 70021, `No matching federated identity record found for presented assertion. Assertion Issuer: '${String(claims.iss)}'. Assertion Subject: '${String(claims.sub)}'. Assertion Audience: '${audiences.join(',')}'. ${WIF_DOCS}`);
  }
  const scope = (form.get('scope') ?? '').trim();
  if (!/^\S+\/\.default$/.test(scope)) {
    return aadsts(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
  }
  const resource = scope.replace(/\/\.default$/, '');
  if (!m.knowsResource(resource)) return aadsts(400, 'invalid_resource', 500011, unknownResourceText(resource, m.tenantId));
  const issued = mintFor(emu, identity, resource);
  const lifetime = issued.exp - issued.nbf;
  return { status: 200, body: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: issued.minted.token } };
}
