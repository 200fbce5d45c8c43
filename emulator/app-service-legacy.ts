/**
 * The 2017-09-01 App Service protocol (Linux Consumption Functions, old
 * images, Azure Machine Learning): GET $MSI_ENDPOINT?api-version=2017-09-01&resource=…[&clientid=…]
 * with "secret: $MSI_SECRET". Only clientid selects a user-assigned identity
 * (other parameters are ignored, so they would silently get the
 * system-assigned one). expires_on is a date string whose form depends on
 * the host's OS: "1/16/2030 5:24:12 AM +00:00" on Windows (the default here),
 * "01/16/2030 05:24:12 +00:00" on Linux (legacyDateForm; the Azure CLI 2.45
 * reads only this one). MSI_ENDPOINT ends in a slash, as App Service sets it.
 * Served at /legacy/msi/token.
 */
import { appServiceError } from './app-service';
import type { Reply, RequestContext } from './server';
import { AzureEmulator } from './server';
import { hostSecret, issueToken } from './tokens';

export const APP_SERVICE_LEGACY_TOKEN_ROUTE = 'appServiceLegacy.token';
export const APP_SERVICE_LEGACY_PATH = '/legacy/msi/token';
const PATH = APP_SERVICE_LEGACY_PATH;
const secrets = new WeakMap<AzureEmulator, string>();
export type LegacyDateForm = 'windows' | 'linux';
const forms = new WeakMap<AzureEmulator, LegacyDateForm>();

/**
 * Epoch seconds as the 2017-09-01 protocol writes them (UTC): on Windows
 * "M/d/yyyy h:mm:ss AM +00:00", on Linux "MM/dd/yyyy HH:mm:ss +00:00".
 */
export function legacyExpiresOn(epochSeconds: number, form: LegacyDateForm = 'windows'): string {
  const d = new Date(epochSeconds * 1000);
  const h = d.getUTCHours();
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  return form === 'linux'
    ? `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${d.getUTCFullYear()} ${two(h)}:${time} +00:00`
    : `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h % 12 || 12}:${time} ${h < 12 ? 'AM' : 'PM'} +00:00`;
}

/** Makes the emulated 2017-09-01 host answer as one on that OS does. */
export function legacyDateForm(emu: AzureEmulator, form: LegacyDateForm): void {
  forms.set(emu, form);
}

export function registerAppServiceLegacy(emu: AzureEmulator): void {
  const secret = hostSecret(emu);
  secrets.set(emu, secret);
  emu.route(APP_SERVICE_LEGACY_TOKEN_ROUTE, 'GET', PATH, (ctx) => legacyToken(emu, secret, ctx));
}

/** MSI_ENDPOINT (with the trailing slash App Service gives it) and MSI_SECRET pointing at this emulator. */
export function appServiceLegacyEnv(emu: AzureEmulator): Record<string, string> {
  return { MSI_ENDPOINT: `${emu.url}${PATH}/`, MSI_SECRET: secrets.get(emu) ?? '' };
}

function legacyToken(emu: AzureEmulator, secret: string, { url, header }: RequestContext): Reply {
  if (header('secret') !== secret) return appServiceError(401, 'The secret header is missing or not valid.');
  const q = url.searchParams;
  if (q.get('api-version') !== '2017-09-01') return appServiceError(400, `The api-version '${q.get('api-version') ?? ''}' is not supported by this endpoint. Use 2017-09-01.`);
  const resource = q.get('resource');
  if (!resource) return appServiceError(400, "The 'resource' query parameter is required.");
  const issued = issueToken(emu, resource, { clientId: q.get('clientid') ?? undefined });
  if (!issued.ok) return appServiceError(400, issued.reason === 'unknownResource' ? issued.description : 'Unable to load the proper Managed Identity.');
  return { status: 200, body: { access_token: issued.minted.token, expires_on: legacyExpiresOn(issued.exp, forms.get(emu)), resource, token_type: 'Bearer' } };
}
