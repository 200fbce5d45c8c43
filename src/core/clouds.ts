/**
 * The Azure clouds and the endpoints and audiences each one uses.
 * Custom covers Azure Stack Hub, private endpoints and the emulator.
 */
export type CloudName = 'AzureCloud' | 'AzureUSGovernment' | 'AzureChinaCloud' | 'Custom';

export interface Cloud {
  name: CloudName;
  /** Azure Resource Manager base URL, with a trailing slash. */
  armEndpoint: string;
  /** The audience of ARM tokens, with a trailing slash. */
  armAudience: string;
  keyVaultAudience: string;
  graphAudience: string;
  storageAudience: string;
  /** Microsoft Entra ID authority host, without a trailing slash. */
  authorityHost: string;
}

/** The Azure DevOps resource: the same application ID in every cloud. */
export const AZURE_DEVOPS_RESOURCE = '499b84ac-1321-427f-aa17-267ca6975798';

export const CLOUDS: Readonly<Record<Exclude<CloudName, 'Custom'>, Cloud>> = {
  AzureCloud: {
    name: 'AzureCloud',
    armEndpoint: 'https://management.azure.com/',
    armAudience: 'https://management.azure.com/',
    keyVaultAudience: 'https://vault.azure.net',
    graphAudience: 'https://graph.microsoft.com',
    storageAudience: 'https://storage.azure.com/',
    authorityHost: 'https://login.microsoftonline.com',
  },
  AzureUSGovernment: {
    name: 'AzureUSGovernment',
    armEndpoint: 'https://management.usgovcloudapi.net/',
    armAudience: 'https://management.usgovcloudapi.net/',
    keyVaultAudience: 'https://vault.usgovcloudapi.net',
    graphAudience: 'https://graph.microsoft.us',
    storageAudience: 'https://storage.azure.com/',
    authorityHost: 'https://login.microsoftonline.us',
  },
  AzureChinaCloud: {
    name: 'AzureChinaCloud',
    armEndpoint: 'https://management.chinacloudapi.cn/',
    armAudience: 'https://management.chinacloudapi.cn/',
    keyVaultAudience: 'https://vault.azure.cn',
    graphAudience: 'https://microsoftgraph.chinacloudapi.cn',
    storageAudience: 'https://storage.azure.com/',
    authorityHost: 'https://login.chinacloudapi.cn',
  },
};

export function isCloudName(name: string): name is CloudName {
  return name === 'Custom' || Object.prototype.hasOwnProperty.call(CLOUDS, name);
}

/** A Custom cloud: ARM at armEndpoint, tokens for armAudience (default: the endpoint); other audiences as in AzureCloud. */
export function customCloud(armEndpoint: string, armAudience?: string): Cloud {
  const endpoint = withSlash(armEndpoint);
  return { ...CLOUDS.AzureCloud, name: 'Custom', armEndpoint: endpoint, armAudience: armAudience?.trim() || endpoint };
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
