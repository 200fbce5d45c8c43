/**
 * The MSI_ENDPOINT token protocol that the Azure CLI (msrestazure, CLI 2.45)
 * speaks when MSI_ENDPOINT is set without APPSETTING_WEBSITE_SITE_NAME: a
 * POST of the form `resource=…[&client_id|object_id|msi_res_id=…]` with
 * "Metadata: true" (Cloud Shell and the old VM extension answer it). The
 * answer has the IMDS shape. Only what the real Azure CLI test needs.
 */
import { randomUUID } from 'node:crypto';
import { badRequest, imdsSelector, tokenReply } from './imds';
import type { AzureEmulator, Reply, RequestContext } from './server';

export const MSI_ENDPOINT_ROUTE = 'msi-endpoint.token';
export const MSI_ENDPOINT_PATH = '/msi/token';

export function registerMsiEndpoint(emu: AzureEmulator): void {
  emu.route(MSI_ENDPOINT_ROUTE, 'POST', MSI_ENDPOINT_PATH, (ctx) => msiToken(emu, ctx));
}

function msiToken(emu: AzureEmulator, { body, header }: RequestContext): Reply {
  if (header('metadata') !== 'true') return badRequest('invalid_request', 'Required metadata header not specified');
  const form = new URLSearchParams(body);
  const resource = form.get('resource');
  if (!resource) return badRequest('invalid_request', 'Required parameter resource is missing');
  return tokenReply(emu, resource, imdsSelector(form));
}

/** MSI_ENDPOINT (and a MSI_SECRET, as App Service sets both) pointing at the emulator. */
export function msiEndpointEnv(emu: AzureEmulator): Record<string, string> {
  return { MSI_ENDPOINT: `${emu.url}${MSI_ENDPOINT_PATH}`, MSI_SECRET: randomUUID().replace(/-/g, '').toUpperCase() };
}
