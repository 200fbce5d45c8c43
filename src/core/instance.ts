/**
 * The VM's own instance metadata from IMDS:
 * GET {IMDS}/metadata/instance?api-version=2021-02-01 with "Metadata: true",
 * direct (never through a proxy). Only what helps to diagnose access is kept:
 * no admin user name, keys, custom or user data.
 */
import type { CloudName } from './clouds';
import { isManagedIdentityError, ManagedIdentityError } from './errors';
import { getRetrying, Json, jsonBody, RestOptions, serviceError } from './rest';
import { imdsBaseUrl, proxyUnreachable, unreachableDetail } from './sources/imds';

export const IMDS_INSTANCE_API_VERSION = '2021-02-01';
export const IMDS_LABEL = 'Instance Metadata Service';

export interface InstanceInfo {
  name: string;
  resourceId: string;
  vmId: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  vmSize: string;
  osType: string;
  /** publisher offer sku version, when from a marketplace image. */
  image?: string;
  scaleSet?: string;
  zone?: string;
  azEnvironment?: string;
  tags: Array<{ name: string; value: string }>;
  privateIps: string[];
}

export interface InstanceOptions extends Omit<RestOptions, 'network'> {
  env?: NodeJS.ProcessEnv;
}

export async function readInstanceMetadata(options: InstanceOptions = {}): Promise<InstanceInfo> {
  const base = imdsBaseUrl(options.env ?? process.env);
  const url = `${base}/metadata/instance?api-version=${IMDS_INSTANCE_API_VERSION}`;
  let res;
  try {
    res = await getRetrying({ url, headers: { Metadata: 'true' }, probe: { connectTimeoutMs: 3000 } }, IMDS_LABEL, { ...options, timeoutSeconds: options.timeoutSeconds ?? 30 });
  } catch (e) {
    if (isManagedIdentityError(e) && (e.kind === 'noEndpoint' || e.kind === 'timeout')) {
      throw new ManagedIdentityError('noEndpoint', 'InstanceMetadataUnavailable', base, e.message);
    }
    throw e;
  }
  if (proxyUnreachable(res)) throw new ManagedIdentityError('noEndpoint', 'InstanceMetadataUnavailable', base, unreachableDetail(res));
  if (res.status !== 200) {
    const { code, message } = serviceError(res);
    throw new ManagedIdentityError('refused', 'InstanceMetadataRefused', res.status, [code, message].filter(Boolean).join(': '));
  }
  return parseInstance(jsonBody(res, IMDS_LABEL, url));
}

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function parseInstance(json: Json): InstanceInfo {
  const c = obj(json.compute);
  const image = [c.publisher, c.offer, c.sku, c.version].map(str).filter(Boolean).join(' ');
  const privateIps = arr(obj(json.network).interface).flatMap((nic) =>
    ['ipv4', 'ipv6'].flatMap((family) => arr(obj(obj(nic)[family]).ipAddress).map((ip) => str(obj(ip).privateIpAddress))),
  );
  return {
    name: str(c.name),
    resourceId: str(c.resourceId),
    vmId: str(c.vmId),
    subscriptionId: str(c.subscriptionId),
    resourceGroup: str(c.resourceGroupName),
    location: str(c.location),
    vmSize: str(c.vmSize),
    osType: str(c.osType),
    image: image || undefined,
    scaleSet: str(c.vmScaleSetName) || undefined,
    zone: str(c.zone) || undefined,
    azEnvironment: str(c.azEnvironment) || undefined,
    tags: arr(c.tagsList).map((t) => ({ name: str(obj(t).name), value: str(obj(t).value) })).filter((t) => t.name),
    privateIps: privateIps.filter(Boolean),
  };
}

/** IMDS azEnvironment names of the clouds. */
const ENVIRONMENTS: Record<Exclude<CloudName, 'Custom'>, string> = {
  AzureCloud: 'AzurePublicCloud',
  AzureUSGovernment: 'AzureUSGovernmentCloud',
  AzureChinaCloud: 'AzureChinaCloud',
};

/** The cloud input that fits an azEnvironment (compared without regard to case), if any. */
export function cloudOfEnvironment(azEnvironment: string): Exclude<CloudName, 'Custom'> | undefined {
  const env = azEnvironment.trim().toLowerCase();
  return (Object.keys(ENVIRONMENTS) as Array<Exclude<CloudName, 'Custom'>>).find((c) => ENVIRONMENTS[c].toLowerCase() === env);
}
