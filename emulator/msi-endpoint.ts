/**
 * The MSI_ENDPOINT token protocol that the Azure CLI (msrestazure, CLI 2.45)
 * speaks when MSI_ENDPOINT is set without APPSETTING_WEBSITE_SITE_NAME: a
 * POST of the form `resource=…[&client_id|object_id|msi_res_id=…]` with
 * "Metadata: true" (Cloud Shell and the old VM extension answer it). The
 * answer has the IMDS shape. Only what the real Azure CLI test needs; served
 * at the 2017-09-01 protocol's path, so one MSI_ENDPOINT answers both.
 */
import { APP_SERVICE_LEGACY_PATH } from './app-service-legacy';
import { badRequest, imdsSelector, tokenReply } from './imds';
import type { AzureEmulator, Reply, RequestContext } from './server';

export const MSI_ENDPOINT_ROUTE = 'msi-endpoint.token';
/** The same MSI_ENDPOINT as the 2017-09-01 GET protocol: one host variable, two clients. */
export const MSI_ENDPOINT_PATH = APP_SERVICE_LEGACY_PATH;

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

/** MSI_ENDPOINT and MSI_SECRET, as App Service sets both: the 2017-09-01 host's environment. */
export { appServiceLegacyEnv as msiEndpointEnv } from './app-service-legacy';
