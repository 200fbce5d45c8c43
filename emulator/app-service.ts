/**
 * App Service, Azure Functions and Container Apps managed identity
 * (api-version 2019-08-01), as documented: GET
 * $IDENTITY_ENDPOINT?api-version=2019-08-01&resource=…[&client_id|principal_id|object_id|mi_res_id]
 * with "X-IDENTITY-HEADER: $IDENTITY_HEADER". The answer has access_token,
 * client_id, expires_on and not_before (epoch seconds as strings), resource
 * and token_type; errors are {statusCode, message, correlationId}.
 * Served at /msi/token.
 */
import { randomUUID } from 'node:crypto';
import type { Reply, RequestContext } from './server';
import { AzureEmulator } from './server';
import { hostSecret, issueToken } from './tokens';

export const APP_SERVICE_TOKEN_ROUTE = 'appService.token';
const PATH = '/msi/token';
const identityHeaders = new WeakMap<AzureEmulator, string>();

export function appServiceError(status: number, message: string): Reply {
  return { status, body: { statusCode: status, message, correlationId: randomUUID() } };
}

export function registerAppService(emu: AzureEmulator): void {
  const secret = hostSecret(emu);
  identityHeaders.set(emu, secret);
  emu.route(APP_SERVICE_TOKEN_ROUTE, 'GET', PATH, (ctx) => appServiceToken(emu, secret, ctx));
}

/** IDENTITY_ENDPOINT and IDENTITY_HEADER pointing at this emulator. */
export function appServiceEnv(emu: AzureEmulator): Record<string, string> {
  return { IDENTITY_ENDPOINT: `${emu.url}${PATH}`, IDENTITY_HEADER: identityHeaders.get(emu) ?? '' };
}

function appServiceToken(emu: AzureEmulator, secret: string, { url, header }: RequestContext): Reply {
  if (header('x-identity-header') !== secret) return appServiceError(401, 'The X-IDENTITY-HEADER header is missing or not valid.');
  const q = url.searchParams;
  const version = q.get('api-version');
  if (version !== '2019-08-01') return appServiceError(400, `The api-version '${version ?? ''}' is not supported by this endpoint. Use 2019-08-01.`);
  const resource = q.get('resource');
  if (!resource) return appServiceError(400, "The 'resource' query parameter is required.");
  const ids = ['client_id', 'principal_id', 'object_id', 'mi_res_id'].filter((p) => q.has(p));
  if (ids.length > 1) return appServiceError(400, `Only one of client_id, principal_id, object_id and mi_res_id may be given, not ${ids.join(' and ')}.`);
  const issued = issueToken(emu, resource, {
    clientId: q.get('client_id') ?? undefined,
    objectId: q.get('principal_id') ?? q.get('object_id') ?? undefined,
    resourceId: q.get('mi_res_id') ?? undefined,
  });
  if (!issued.ok) return appServiceError(400, issued.reason === 'unknownResource' ? issued.description : 'Unable to load the proper Managed Identity.');
  return {
    status: 200,
    body: {
      access_token: issued.minted.token,
      client_id: issued.identity.clientId,
      expires_on: String(issued.exp),
      not_before: String(issued.nbf),
      resource,
      token_type: 'Bearer',
    },
  };
}
