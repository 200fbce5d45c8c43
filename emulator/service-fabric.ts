/**
 * Service Fabric's managed identity token service, as documented: GET
 * …/metadata/identity/oauth2/token?api-version=2019-07-01-preview&resource=…
 * with "secret: $IDENTITY_HEADER", over HTTPS only, with the emulator's
 * self-signed certificate (its thumbprint is IDENTITY_SERVER_THUMBPRINT). The
 * service's identity is the one its manifest names (here, the machine's
 * default). The answer has a numeric expires_on; errors are
 * {error: {correlationId, code, message}}. Served at
 * /servicefabric/metadata/identity/oauth2/token on the HTTPS listener.
 */
import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Reply, RequestContext } from './server';
import { AzureEmulator } from './server';
import { hostSecret, issueToken } from './tokens';

export const SERVICE_FABRIC_TOKEN_ROUTE = 'serviceFabric.token';
const PATH = '/servicefabric/metadata/identity/oauth2/token';
const secrets = new WeakMap<AzureEmulator, string>();

function fabricError(status: number, code: string, message: string): Reply {
  return { status, body: { error: { correlationId: randomUUID(), code, message } } };
}

export function registerServiceFabric(emu: AzureEmulator): void {
  const secret = hostSecret(emu);
  secrets.set(emu, secret);
  emu.route(SERVICE_FABRIC_TOKEN_ROUTE, 'GET', PATH, (ctx) => fabricToken(emu, secret, ctx));
}

/** IDENTITY_ENDPOINT (HTTPS), IDENTITY_HEADER and IDENTITY_SERVER_THUMBPRINT pointing at this emulator. */
export function serviceFabricEnv(emu: AzureEmulator): Record<string, string> {
  return { IDENTITY_ENDPOINT: `${emu.httpsUrl}${PATH}`, IDENTITY_HEADER: secrets.get(emu) ?? '', IDENTITY_SERVER_THUMBPRINT: emu.tls.thumbprint };
}

function fabricToken(emu: AzureEmulator, secret: string, { req, url, header }: RequestContext): Reply {
  if (!(req.socket as TLSSocket).encrypted) return fabricError(400, 'HttpsRequired', 'The managed identity token service only accepts HTTPS.');
  const presented = header('secret');
  if (!presented) return fabricError(401, 'SecretHeaderNotFound', 'Secret is not found in the request headers.');
  if (presented !== secret) return fabricError(404, 'ManagedIdentityNotFound', 'Managed identity not found for the specified application host.');
  const q = url.searchParams;
  const version = q.get('api-version') ?? '';
  if (version !== '2019-07-01-preview') return fabricError(400, 'InvalidApiVersion', `The api-version '${version}' is not supported. Supported version is '2019-07-01-preview'.`);
  const resource = q.get('resource');
  if (!resource) return fabricError(400, 'ArgumentNullOrEmpty', "The parameter 'resource' should not be null or empty string.");
  const issued = issueToken(emu, resource, {});
  if (!issued.ok) {
    // As documented: an unknown resource surfaces as an internal error of the managed identity subsystem.
    return issued.reason === 'unknownResource'
      ? fabricError(500, 'InternalServerError', 'An error occurred.')
      : fabricError(404, 'ManagedIdentityNotFound', 'Managed identity not found for the specified application host.');
  }
  return { status: 200, body: { token_type: 'Bearer', access_token: issued.minted.token, expires_on: issued.exp, resource } };
}
