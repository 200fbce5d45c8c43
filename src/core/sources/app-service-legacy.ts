/**
 * The 2017-09-01 App Service protocol, still used by Linux Consumption
 * Functions, old images and Azure Machine Learning: MSI_ENDPOINT (or
 * IDENTITY_ENDPOINT) with MSI_SECRET. GET …?api-version=2017-09-01&resource=…
 * with the header "secret"; a user-assigned identity only by clientid.
 * expires_on may be a date string such as "1/16/2030 5:24:12 AM +00:00"
 * (App Service) or epoch seconds (Azure Machine Learning); see expiry.ts.
 *
 * Azure Machine Learning compute also sets DEFAULT_IDENTITY_CLIENT_ID, the
 * client ID of its default identity: a system-assigned request names it as
 * clientid, as MSAL .NET (MachineLearningManagedIdentitySource.cs) and msal-node
 * (MachineLearning.ts) do, and
 * the claims check then expects that identity.
 */
import type { IdentitySelector } from '../identity';
import { endpointUrl, headerSecret, isSet, selectorParam, transientStatus } from './common';
import type { TokenSource } from './types';

export const APP_SERVICE_LEGACY_API_VERSION = '2017-09-01';

export const appServiceLegacySource: TokenSource = {
  name: 'appServiceLegacy',
  label: 'App Service 2017-09-01 managed identity (MSI_ENDPOINT)',
  detectedBy: 'MSI_ENDPOINT (or IDENTITY_ENDPOINT) and MSI_SECRET',
  detect: ({ env }) => isSet(env.MSI_SECRET) && (isSet(env.MSI_ENDPOINT) || isSet(env.IDENTITY_ENDPOINT)),
  probe: false,
  retryStatus: transientStatus,
  request({ resource, identity, env }) {
    const url = endpointUrl(env, isSet(env.MSI_ENDPOINT) ? 'MSI_ENDPOINT' : 'IDENTITY_ENDPOINT');
    url.searchParams.set('api-version', APP_SERVICE_LEGACY_API_VERSION);
    url.searchParams.set('resource', resource);
    const names: IdentitySelector =
      identity.kind === 'system' && isSet(env.DEFAULT_IDENTITY_CLIENT_ID) ? { kind: 'clientId', id: env.DEFAULT_IDENTITY_CLIENT_ID.trim() } : identity;
    const param = selectorParam(this.label, names, { clientId: 'clientid' });
    if (param) url.searchParams.set(...param);
    return { http: { url: url.toString(), method: 'GET', headers: { secret: headerSecret(env, 'MSI_SECRET') } }, names };
  },
};
