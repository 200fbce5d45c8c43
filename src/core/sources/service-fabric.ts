/**
 * Service Fabric's managed identity token service: IDENTITY_ENDPOINT,
 * IDENTITY_HEADER and IDENTITY_SERVER_THUMBPRINT. GET
 * …?api-version=2019-07-01-preview&resource=… with the header "secret", over
 * HTTPS to a self-signed certificate that is accepted only when its SHA-1
 * thumbprint is IDENTITY_SERVER_THUMBPRINT (case-insensitive).
 * A service gets the identity its application manifest names; it cannot be
 * chosen at run time (the Azure SDK for Python refuses a client ID here, MSAL
 * warns), so only system-assigned selection is accepted.
 */
import { ManagedIdentityError } from '../errors';
import { pinnedTlsAgent } from '../http';
import { endpointUrl, headerSecret, isSet, selectorParam, shown, transientStatus } from './common';
import type { TokenSource } from './types';

export const SERVICE_FABRIC_API_VERSION = '2019-07-01-preview';

/** The thumbprint as 40 upper-case hex digits; separators (spaces, colons) are allowed. */
export function parseThumbprint(raw: string): string {
  const hex = raw.replace(/[\s:]/g, '').toUpperCase();
  if (!/^[0-9A-F]{40}$/.test(hex)) throw new ManagedIdentityError('hostSetup', 'ThumbprintInvalid', shown(raw.trim()));
  return hex;
}

export const serviceFabricSource: TokenSource = {
  name: 'serviceFabric',
  label: 'Service Fabric managed identity token service',
  detectedBy: 'IDENTITY_ENDPOINT, IDENTITY_HEADER and IDENTITY_SERVER_THUMBPRINT',
  detect: ({ env }) => isSet(env.IDENTITY_ENDPOINT) && isSet(env.IDENTITY_HEADER) && isSet(env.IDENTITY_SERVER_THUMBPRINT),
  probe: false,
  retryStatus: transientStatus,
  request({ resource, identity, env }) {
    selectorParam(this.label, identity, {});
    const url = endpointUrl(env, 'IDENTITY_ENDPOINT', 'https');
    const thumbprint = parseThumbprint(env.IDENTITY_SERVER_THUMBPRINT ?? '');
    url.searchParams.set('api-version', SERVICE_FABRIC_API_VERSION);
    url.searchParams.set('resource', resource);
    return {
      http: { url: url.toString(), method: 'GET', headers: { secret: headerSecret(env, 'IDENTITY_HEADER') }, dispatcher: pinnedTlsAgent(thumbprint) },
      names: identity,
    };
  },
};
