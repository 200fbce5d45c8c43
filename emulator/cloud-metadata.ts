/**
 * What the Azure CLI reads to register a custom cloud (Azure Stack Hub form):
 * GET {ARM}/metadata/endpoints, naming an ADFS-style authority on this
 * emulator, and that authority's OpenID configuration (MSAL reads it even for
 * az logout and az account clear). Serve it over the HTTPS listener: MSAL
 * only talks to an https authority, and the CLI sends bearer tokens over https only.
 */
import type { AzureEmulator } from './server';

export const CLOUD_METADATA_ROUTE = 'arm.metadata';
export const AUTHORITY_DISCOVERY_ROUTE = 'authority.openid-configuration';

export function registerCloudMetadata(emu: AzureEmulator): void {
  // az cloud register --endpoint-resource-manager X reads X + '/metadata/endpoints?api-version=2015-01-01'.
  emu.route(CLOUD_METADATA_ROUTE, 'GET', /^\/+metadata\/endpoints$/, () => ({
    status: 200,
    body: {
      galleryEndpoint: `${emu.httpsUrl}/gallery/`,
      graphEndpoint: 'https://graph.windows.net/',
      portalEndpoint: `${emu.httpsUrl}/portal/`,
      authentication: { loginEndpoint: `${emu.httpsUrl}/adfs`, audiences: ['https://management.azure.com/'] },
    },
  }));
  emu.route(AUTHORITY_DISCOVERY_ROUTE, 'GET', '/adfs/.well-known/openid-configuration', () => ({
    status: 200,
    body: {
      issuer: `${emu.httpsUrl}/adfs`,
      authorization_endpoint: `${emu.httpsUrl}/adfs/oauth2/authorize/`,
      token_endpoint: `${emu.httpsUrl}/adfs/oauth2/token/`,
      jwks_uri: `${emu.httpsUrl}/adfs/discovery/keys`,
      response_types_supported: ['code', 'id_token', 'code id_token', 'token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
    },
  }));
}
