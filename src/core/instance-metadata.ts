/**
 * IMDS instance metadata: GET {IMDS}/metadata/instance?api-version=2021-02-01
 * with "Metadata: true", never through a proxy. The task reads the VM's
 * subscription from it when none is given.
 */
import { send } from './http';
import { imdsBaseUrl } from './sources/imds';

export const INSTANCE_METADATA_API_VERSION = '2021-02-01';

export interface InstanceMetadata {
  subscriptionId?: string;
  resourceGroupName?: string;
  name?: string;
  location?: string;
  resourceId?: string;
  azEnvironment?: string;
}

/** The compute metadata of this VM, or undefined when IMDS does not answer it (not a VM, or no IMDS). */
export async function fetchInstanceMetadata(env: NodeJS.ProcessEnv, timeoutMs = 5_000): Promise<InstanceMetadata | undefined> {
  const url = `${imdsBaseUrl(env)}/metadata/instance?api-version=${INSTANCE_METADATA_API_VERSION}`;
  try {
    const res = await send({ url, headers: { Metadata: 'true' }, timeoutMs, connectTimeoutMs: Math.min(timeoutMs, 2_000) });
    if (res.status !== 200) return undefined;
    const compute = (JSON.parse(res.body) as { compute?: Record<string, unknown> }).compute;
    if (!compute || typeof compute !== 'object') return undefined;
    const s = (k: string) => (typeof compute[k] === 'string' && compute[k] ? (compute[k] as string) : undefined);
    return {
      subscriptionId: s('subscriptionId'),
      resourceGroupName: s('resourceGroupName'),
      name: s('name'),
      location: s('location'),
      resourceId: s('resourceId'),
      azEnvironment: s('azEnvironment'),
    };
  } catch {
    return undefined;
  }
}
