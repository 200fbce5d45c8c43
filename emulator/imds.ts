/**
 * IMDS managed identity tokens, as documented for VMs and scale sets:
 * GET /metadata/identity/oauth2/token?api-version=…&resource=…[&client_id|object_id|msi_res_id]
 * with "Metadata: true". Every field of the answer is a string; errors are
 * {error, error_description}.
 */
import type { Reply, RequestContext } from './server';
import { AzureEmulator } from './server';
import { IdentityQuery, issueToken } from './tokens';

export const IMDS_TOKEN_ROUTE = 'imds.token';
const IMDS_TOKEN_VERSIONS = new Set(['2018-02-01', '2019-08-01', '2019-11-01', '2020-06-01', '2021-02-01', '2023-07-01', '2025-04-07']);

export function badRequest(error: string, description: string): Reply {
  return { status: 400, body: { error, error_description: description } };
}

export function registerImds(emu: AzureEmulator): void {
  emu.route(IMDS_TOKEN_ROUTE, 'GET', '/metadata/identity/oauth2/token', (ctx) => imdsToken(emu, ctx));
}

function imdsToken(emu: AzureEmulator, { url, header }: RequestContext): Reply {
  if (header('x-forwarded-for')) {
    return badRequest('invalid_request', 'Request contains X-Forwarded-For header; requests through a proxy are not allowed');
  }
  if (header('metadata') !== 'true') return badRequest('bad_request_102', 'Required metadata header not specified');
  const q = url.searchParams;
  const version = q.get('api-version');
  if (!version) return badRequest('invalid_request', "Required query variable 'api-version' is missing");
  if (!IMDS_TOKEN_VERSIONS.has(version)) return badRequest('invalid_request', `Unsupported api-version ${version}`);
  const resource = q.get('resource');
  if (!resource) return badRequest('invalid_request', 'Required audience parameter not specified');
  return tokenReply(emu, resource, imdsSelector(q));
}

/** The identity IMDS-style parameters name: client_id, object_id or msi_res_id. */
export function imdsSelector(params: URLSearchParams): { clientId?: string; objectId?: string; resourceId?: string } {
  return {
    clientId: params.get('client_id') ?? undefined,
    objectId: params.get('object_id') ?? undefined,
    resourceId: params.get('msi_res_id') ?? undefined,
  };
}

/** The IMDS-shaped token answer (every field a string; errors {error, error_description}), shared by the protocols that copy it. */
export function tokenReply(emu: AzureEmulator, resource: string, by: IdentityQuery): Reply {
  const issued = issueToken(emu, resource, by);
  if (!issued.ok) return badRequest(issued.reason === 'unknownResource' ? 'invalid_resource' : 'invalid_request', issued.description);
  const { minted, identity, exp, nbf } = issued;
  return {
    status: 200,
    body: {
      access_token: minted.token,
      client_id: identity.clientId,
      expires_in: String(exp - nbf),
      expires_on: String(exp),
      ext_expires_in: String(exp - nbf),
      not_before: String(nbf),
      resource,
      token_type: 'Bearer',
    },
  };
}
