/**
 * Azure Cloud Shell: MSI_ENDPOINT without MSI_SECRET. POST $MSI_ENDPOINT with
 * "Metadata: true" and the form body resource=…; system-assigned only (the
 * token is for the signed-in Cloud Shell user).
 */
import { endpointUrl, isSet, selectorParam, transientStatus } from './common';
import type { TokenSource } from './types';

export const cloudShellSource: TokenSource = {
  name: 'cloudShell',
  label: 'Azure Cloud Shell (MSI_ENDPOINT)',
  detectedBy: 'MSI_ENDPOINT without MSI_SECRET',
  detect: ({ env }) => isSet(env.MSI_ENDPOINT) && !isSet(env.MSI_SECRET),
  probe: false,
  retryStatus: transientStatus,
  request({ resource, identity, env }) {
    selectorParam(this.label, identity, {});
    const url = endpointUrl(env, 'MSI_ENDPOINT');
    return {
      http: {
        url: url.toString(),
        method: 'POST',
        headers: { Metadata: 'true', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ resource }).toString(),
      },
      names: identity,
    };
  },
};
