/**
 * The 2017-09-01 App Service protocol (Linux Consumption Functions, old
 * images, Azure Machine Learning): GET $MSI_ENDPOINT?api-version=2017-09-01&resource=…[&clientid=…]
 * with "secret: $MSI_SECRET". Only clientid selects a user-assigned identity
 * (other parameters are ignored, so they would silently get the
 * system-assigned one). expires_on is a date string whose form depends on
 * the host's OS: "1/16/2030 5:24:12 AM +00:00" on Windows (the default here),
 * "01/16/2030 05:24:12 +00:00" on Linux (legacyDateForm; the Azure CLI 2.45
 * reads only this one). MSI_ENDPOINT ends in a slash, as App Service sets it.
 * Azure Machine Learning answers the same protocol with expires_on in epoch
 * seconds (a number), and sets DEFAULT_IDENTITY_CLIENT_ID beside MSI_ENDPOINT
 * (azure-sdk-for-python azure_ml.py, MSAL .NET MachineLearningManagedIdentitySource.cs);
 * the emulator serves that host at its own path (azureMachineLearningEnv).
 * Served at /legacy/msi/token.
 */
import { appServiceError } from './app-service';
import type { Reply, RequestContext } from './server';
import { AzureEmulator } from './server';
import { hostSecret, issueToken, mintFor } from './tokens';

export const APP_SERVICE_LEGACY_TOKEN_ROUTE = 'appServiceLegacy.token';
export const APP_SERVICE_LEGACY_PATH = '/legacy/msi/token';
const PATH = APP_SERVICE_LEGACY_PATH;
const secrets = new WeakMap<AzureEmulator, string>();
export type LegacyDateForm = 'windows' | 'linux';
const forms = new WeakMap<AzureEmulator, LegacyDateForm>();

/** Which host answers the 2017-09-01 protocol: App Service (a date string) or Azure Machine Learning (epoch seconds). */
export type LegacyHost = 'appService' | 'azureMachineLearning';

/** Azure Machine Learning compute's endpoint: the same protocol at its own path, answered as Azure ML does. */
export const AZURE_ML_TOKEN_ROUTE = 'azureMachineLearning.token';
const AML_PATH = '/aml/msi/token';

/**
 * The environment of Azure Machine Learning compute: MSI_ENDPOINT (its own endpoint on the emulator), MSI_SECRET
 * and DEFAULT_IDENTITY_CLIENT_ID (the client ID of its default identity: the system-assigned one, else its one
 * user-assigned identity).
 */
export function azureMachineLearningEnv(emu: AzureEmulator): Record<string, string> {
  const selected = emu.machine.select();
  if (!selected.ok) throw new Error('Azure Machine Learning needs a default identity: a system-assigned one, or one user-assigned identity.');
  return { MSI_ENDPOINT: `${emu.url}${AML_PATH}`, MSI_SECRET: secrets.get(emu) ?? '', DEFAULT_IDENTITY_CLIENT_ID: selected.identity.clientId };
}

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
  emu.route(APP_SERVICE_LEGACY_TOKEN_ROUTE, 'GET', PATH, (ctx) => legacyToken(emu, secret, ctx, 'appService'));
  emu.route(AZURE_ML_TOKEN_ROUTE, 'GET', AML_PATH, (ctx) => legacyToken(emu, secret, ctx, 'azureMachineLearning'));
}

/** MSI_ENDPOINT (with the trailing slash App Service gives it) and MSI_SECRET pointing at this emulator. */
export function appServiceLegacyEnv(emu: AzureEmulator): Record<string, string> {
  return { MSI_ENDPOINT: `${emu.url}${PATH}/`, MSI_SECRET: secrets.get(emu) ?? '' };
}

function legacyToken(emu: AzureEmulator, secret: string, { url, header }: RequestContext, host: LegacyHost): Reply {
  if (header('secret') !== secret) return appServiceError(401, 'The secret header is missing or not valid.');
  const q = url.searchParams;
  if (q.get('api-version') !== '2017-09-01') return appServiceError(400, `The api-version '${q.get('api-version') ?? ''}' is not supported by this endpoint. Use 2017-09-01.`);
  const resource = q.get('resource');
  if (!resource) return appServiceError(400, "The 'resource' query parameter is required.");
  const clientId = q.get('clientid') ?? undefined;
  const aml = host === 'azureMachineLearning';
  // Azure Machine Learning's clients name the default identity (DEFAULT_IDENTITY_CLIENT_ID) even when it is the system-assigned one.
  const system = emu.machine.systemAssigned;
  const namesSystem = aml && system && clientId?.toLowerCase() === system.clientId.toLowerCase();
  const issued = namesSystem ? mintFor(emu, system, resource) : issueToken(emu, resource, { clientId });
  if (!issued.ok) return appServiceError(400, issued.reason === 'unknownResource' ? issued.description : 'Unable to load the proper Managed Identity.');
  const expiresOn = aml ? issued.exp : legacyExpiresOn(issued.exp, forms.get(emu));
  return { status: 200, body: { access_token: issued.minted.token, expires_on: expiresOn, resource, token_type: 'Bearer' } };
}
