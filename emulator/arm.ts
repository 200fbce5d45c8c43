/**
 * Azure Resource Manager, as much as the Azure CLI needs for a custom cloud:
 * GET /metadata/endpoints (the Azure Stack Hub form `az cloud register`
 * reads, naming an ADFS-style authority with its OpenID configuration) and
 * GET /subscriptions with a bearer token for a Resource Manager audience.
 * Errors have ARM's {error: {code, message}} shape. Serve it over the
 * emulator's HTTPS listener: the Azure CLI refuses to send a bearer token over
 * plain HTTP, and MSAL only talks to an https authority.
 */
import { bearerToken, hasAuthorization } from './bearer';
import { normaliseResource } from './identities';
import type { AzureEmulator, Reply } from './server';

export const ARM_SUBSCRIPTIONS_ROUTE = 'arm.subscriptions';
export const ARM_METADATA_ROUTE = 'arm.metadata';
export const AUTHORITY_DISCOVERY_ROUTE = 'authority.openid-configuration';
const API_VERSIONS = new Set(['2016-06-01', '2019-06-01', '2019-11-01', '2020-01-01', '2021-01-01', '2022-12-01']);
const ARM_AUDIENCES = ['https://management.azure.com', 'https://management.core.windows.net', 'https://management.usgovcloudapi.net', 'https://management.chinacloudapi.cn'];

export interface EmulatedSubscription {
  subscriptionId: string;
  displayName: string;
}

export interface ArmState {
  /** The subscriptions every identity can see (empty: no role assignment anywhere). */
  subscriptions: EmulatedSubscription[];
}

const states = new WeakMap<AzureEmulator, ArmState>();

/** The emulated Resource Manager of an emulator (one subscription, the machine's, by default). */
export function armOf(emu: AzureEmulator): ArmState {
  let state = states.get(emu);
  if (!state) {
    state = { subscriptions: [{ subscriptionId: emu.machine.subscriptionId, displayName: 'Emulated Subscription' }] };
    states.set(emu, state);
  }
  return state;
}

function armError(status: number, code: string, message: string): Reply {
  return { status, headers: status === 401 ? { 'WWW-Authenticate': 'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token"' } : {}, body: { error: { code, message } } };
}

export function registerArm(emu: AzureEmulator): void {
  // az cloud register --endpoint-resource-manager X reads X + '/metadata/endpoints?api-version=2015-01-01'.
  emu.route(ARM_METADATA_ROUTE, 'GET', /^\/+metadata\/endpoints$/, () => ({
    status: 200,
    body: {
      galleryEndpoint: `${emu.httpsUrl}/gallery/`,
      graphEndpoint: 'https://graph.windows.net/',
      portalEndpoint: `${emu.httpsUrl}/portal/`,
      authentication: { loginEndpoint: `${emu.httpsUrl}/adfs`, audiences: ['https://management.azure.com/'] },
    },
  }));
  // The authority the metadata names: MSAL reads its OpenID configuration (az logout, az account clear).
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
  emu.route(ARM_SUBSCRIPTIONS_ROUTE, 'GET', '/subscriptions', (ctx) => {
    const version = ctx.url.searchParams.get('api-version');
    if (!version) return armError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
    if (!API_VERSIONS.has(version)) return armError(400, 'InvalidApiVersionParameter', `The api-version '${version}' is invalid.`);
    if (!hasAuthorization(ctx)) return armError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
    const token = bearerToken(emu, ctx);
    if (!token) return armError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
    const aud = normaliseResource(String(token.claims.aud));
    if (!ARM_AUDIENCES.includes(aud)) {
      return armError(401, 'InvalidAuthenticationTokenAudience', `The access token has been obtained for wrong audience or resource '${String(token.claims.aud)}'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.`);
    }
    const value = armOf(emu).subscriptions.map((s) => ({
      id: `/subscriptions/${s.subscriptionId}`,
      authorizationSource: 'RoleBased',
      managedByTenants: [],
      subscriptionId: s.subscriptionId,
      tenantId: emu.machine.tenantId,
      displayName: s.displayName,
      state: 'Enabled',
      subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' },
    }));
    return { status: 200, body: { value, count: { type: 'Total', value: value.length } } };
  });
}
