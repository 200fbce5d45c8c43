/**
 * Azure Cloud Shell's token endpoint: POST $MSI_ENDPOINT with "Metadata: true"
 * and the form body resource=…. No identity can be chosen (the token is for
 * the signed-in user; here, the machine's default identity). The answer and
 * errors have the IMDS shape. Served at /oauth2/token (Cloud Shell's own path).
 */
import { badRequest, tokenReply } from './imds';
import type { Reply, RequestContext } from './server';
import { AzureEmulator } from './server';

export const CLOUD_SHELL_TOKEN_ROUTE = 'cloudShell.token';
const PATH = '/oauth2/token';

export function registerCloudShell(emu: AzureEmulator): void {
  emu.route(CLOUD_SHELL_TOKEN_ROUTE, 'POST', PATH, (ctx) => cloudShellToken(emu, ctx));
}

/** MSI_ENDPOINT (without MSI_SECRET) pointing at this emulator. */
export function cloudShellEnv(emu: AzureEmulator): Record<string, string> {
  return { MSI_ENDPOINT: `${emu.url}${PATH}` };
}

function cloudShellToken(emu: AzureEmulator, { header, body }: RequestContext): Reply {
  if (header('metadata') !== 'true') return badRequest('bad_request_102', 'Required metadata header not specified');
  if (!/^application\/x-www-form-urlencoded/i.test(header('content-type') ?? '')) return badRequest('invalid_request', 'The request body must be application/x-www-form-urlencoded');
  const resource = new URLSearchParams(body).get('resource');
  if (!resource) return badRequest('invalid_request', 'Required audience parameter not specified');
  return tokenReply(emu, resource, {});
}
