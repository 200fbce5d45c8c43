/**
 * Azure Instance Metadata Service: VMs and scale sets, and the fallback.
 * GET {base}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=…
 * with "Metadata: true"; user-assigned by client_id, object_id or msi_res_id.
 * The base is AZURE_POD_IDENTITY_AUTHORITY_HOST when set (the Azure SDK convention).
 * Besides the usual transient answers, IMDS answers 410 while it is upgraded.
 *
 * Where there is no IMDS, something else may answer for 169.254.169.254:
 * Docker Desktop's proxy answers 403 with a body saying the network (or host)
 * is unreachable, e.g. "connecting to 169.254.169.254:80: … dial tcp
 * 169.254.169.254:80: connectex: A socket operation was attempted to an
 * unreachable network." That is "no managed identity here", like a refused
 * connection, not a refusal: @azure/identity (imdsMsi.ts, "unreachable" in a
 * 403's body), azure-identity for Python (test_imds_request_failure_docker_desktop,
 * with "network", "host" and "foo" endings) and Azure.Identity for .NET
 * (ManagedIdentitySource) all read it so.
 */
import { ManagedIdentityError } from '../errors';
import type { HttpResponse } from '../http';
import { errorText } from '../token-response';
import { baseUrl, selectorParam, transientStatus } from './common';
import type { TokenSource } from './types';

export const IMDS_DEFAULT_HOST = 'http://169.254.169.254';
export const IMDS_TOKEN_API_VERSION = '2018-02-01';

/** The IMDS base URL; badInput when AZURE_POD_IDENTITY_AUTHORITY_HOST is not a plain base URL (see baseUrl). */
export function imdsBaseUrl(env: NodeJS.ProcessEnv): string {
  return baseUrl(env, 'AZURE_POD_IDENTITY_AUTHORITY_HOST', IMDS_DEFAULT_HOST);
}

/** A 403 whose body says the network or host is unreachable: a proxy (Docker Desktop's) answering where there is no IMDS. */
export function proxyUnreachable(res: HttpResponse): boolean {
  return res.status === 403 && /unreachable/i.test(res.body.slice(0, 4096));
}

/** What such an answer said, for the "no endpoint" message (which gives the same advice as an IMDS that cannot be reached). */
export function unreachableDetail(res: HttpResponse): string {
  return `HTTP 403 from a proxy, not IMDS: ${errorText(res)}`;
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
  refusal(res, { env }) {
    return proxyUnreachable(res) ? new ManagedIdentityError('noEndpoint', 'NoEndpoint', new URL(imdsBaseUrl(env)).origin, unreachableDetail(res)) : undefined;
  },
};
