/**
 * Azure Instance Metadata Service: VMs and scale sets, and the fallback.
 * GET {base}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=…
 * with "Metadata: true"; user-assigned by client_id, object_id or msi_res_id.
 * The base is AZURE_POD_IDENTITY_AUTHORITY_HOST when set (the Azure SDK convention).
 * Besides the usual transient answers, IMDS answers 410 while it is upgraded.
 */
import { baseUrl, selectorParam, transientStatus } from './common';
import type { TokenSource } from './types';

export const IMDS_DEFAULT_HOST = 'http://169.254.169.254';
export const IMDS_TOKEN_API_VERSION = '2018-02-01';

/** The IMDS base URL; badInput when AZURE_POD_IDENTITY_AUTHORITY_HOST is not a plain base URL (see baseUrl). */
export function imdsBaseUrl(env: NodeJS.ProcessEnv): string {
  return baseUrl(env, 'AZURE_POD_IDENTITY_AUTHORITY_HOST', IMDS_DEFAULT_HOST);
}

export const imdsSource: TokenSource = {
  name: 'imds',
  label: 'Azure Instance Metadata Service (IMDS)',
  detectedBy: 'nothing (the fallback on Azure VMs and scale sets)',
  detect: () => true,
  probe: true,
  retryStatus: (status) => status === 410 || transientStatus(status),
  request({ resource, identity, env }) {
    const url = new URL(`${imdsBaseUrl(env)}/metadata/identity/oauth2/token`);
    url.searchParams.set('api-version', IMDS_TOKEN_API_VERSION);
    url.searchParams.set('resource', resource);
    const param = selectorParam(this.label, identity, { clientId: 'client_id', objectId: 'object_id', resourceId: 'msi_res_id' });
    if (param) url.searchParams.set(...param);
    return { http: { url: url.toString(), method: 'GET', headers: { Metadata: 'true' } }, names: identity };
  },
};
