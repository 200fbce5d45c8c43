/**
 * App Service, Azure Functions and Container Apps (api-version 2019-08-01):
 * GET $IDENTITY_ENDPOINT?api-version=2019-08-01&resource=… with the header
 * X-IDENTITY-HEADER: $IDENTITY_HEADER; user-assigned by client_id,
 * principal_id (the object ID) or mi_res_id. expires_on is epoch seconds as a string.
 */
import { endpointUrl, headerSecret, isSet, selectorParam, transientStatus } from './common';
import type { TokenSource } from './types';

export const APP_SERVICE_API_VERSION = '2019-08-01';

export const appServiceSource: TokenSource = {
  name: 'appService',
  label: 'App Service managed identity (IDENTITY_ENDPOINT)',
  detectedBy: 'IDENTITY_ENDPOINT and IDENTITY_HEADER',
  detect: ({ env }) => isSet(env.IDENTITY_ENDPOINT) && isSet(env.IDENTITY_HEADER),
  probe: false,
  retryStatus: transientStatus,
  request({ resource, identity, env }) {
    const url = endpointUrl(env, 'IDENTITY_ENDPOINT');
    url.searchParams.set('api-version', APP_SERVICE_API_VERSION);
    url.searchParams.set('resource', resource);
    const param = selectorParam(this.label, identity, { clientId: 'client_id', objectId: 'principal_id', resourceId: 'mi_res_id' });
    if (param) url.searchParams.set(...param);
    const header = headerSecret(env, 'IDENTITY_HEADER');
    return { http: { url: url.toString(), method: 'GET', headers: { 'X-IDENTITY-HEADER': header } }, names: identity };
  },
};
