/**
 * The emulated machine and its identities: a tenant, a subscription, a VM
 * with an optional system-assigned identity and any number of user-assigned
 * ones. Each protocol module asks this model which identity a request names.
 */
import { randomUUID } from 'node:crypto';

export interface EmulatedIdentity {
  clientId: string;
  objectId: string;
  /** The user-assigned identity's resource ID, or the VM's for the system-assigned one. */
  resourceId: string;
  name: string;
}

/** A federated identity credential on a user-assigned identity: which external tokens Entra ID accepts for it. */
export interface FederatedCredential {
  identity: EmulatedIdentity;
  issuer: string;
  subject: string;
  audiences: string[];
}

/** The emulated tenant: an obviously invented ID (the placeholder of Microsoft's own docs), never a real tenant's. */
export const EXAMPLE_TENANT_ID = 'aaaabbbb-0000-cccc-1111-dddd2222eeee';
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
/** The Kubernetes service account the emulated agent pod runs as. */
export const AGENT_SERVICE_ACCOUNT = 'system:serviceaccount:azure-pipelines:agent';

export interface MachineOptions {
  tenantId?: string;
  subscriptionId?: string;
  resourceGroup?: string;
  vmName?: string;
  systemAssigned?: boolean;
  /** Names of user-assigned identities to create. */
  userAssigned?: string[];
  /** Audiences the tenant knows beyond the well-known Azure ones. */
  extraResources?: string[];
  tokenLifetimeSeconds?: number;
}

export const WELL_KNOWN_RESOURCES = [
  'https://management.azure.com',
  'https://management.core.windows.net',
  'https://management.usgovcloudapi.net',
  'https://management.chinacloudapi.cn',
  '499b84ac-1321-427f-aa17-267ca6975798',
  'https://app.vssps.visualstudio.com',
  'https://graph.microsoft.com',
  'https://vault.azure.net',
  'https://storage.azure.com',
  'https://database.windows.net',
];

export type Selection =
  | { ok: true; identity: EmulatedIdentity }
  | { ok: false; reason: 'notFound' | 'multiple' };

export class Machine {
  readonly tenantId: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly vmName: string;
  readonly vmResourceId: string;
  systemAssigned: EmulatedIdentity | undefined;
  readonly userAssigned: EmulatedIdentity[];
  readonly knownResources: Set<string>;
  tokenLifetimeSeconds: number;
  /** The AKS cluster's OIDC issuer, for workload identity. */
  readonly oidcIssuer: string;
  /** One per user-assigned identity by default: the agent's service account from the cluster's issuer. */
  readonly federatedCredentials: FederatedCredential[];

  constructor(options: MachineOptions = {}) {
    this.tenantId = options.tenantId ?? EXAMPLE_TENANT_ID;
    this.subscriptionId = options.subscriptionId ?? '00000000-1111-4222-8333-444444444444';
    this.resourceGroup = options.resourceGroup ?? 'rg-build-agents';
    this.vmName = options.vmName ?? 'agent-vm-01';
    this.vmResourceId = `/subscriptions/${this.subscriptionId}/resourceGroups/${this.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${this.vmName}`;
    this.systemAssigned =
      options.systemAssigned === false
        ? undefined
        : { clientId: randomUUID(), objectId: randomUUID(), resourceId: this.vmResourceId, name: this.vmName };
    this.userAssigned = (options.userAssigned ?? []).map((name) => ({
      clientId: randomUUID(),
      objectId: randomUUID(),
      resourceId: `/subscriptions/${this.subscriptionId}/resourcegroups/${this.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`,
      name,
    }));
    this.knownResources = new Set([...WELL_KNOWN_RESOURCES, ...(options.extraResources ?? [])].map(normaliseResource));
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 86_399;
    this.oidcIssuer = `https://eastus.oic.prod-aks.azure.com/${this.tenantId}/${randomUUID()}/`;
    this.federatedCredentials = this.userAssigned.map((identity) => ({
      identity,
      issuer: this.oidcIssuer,
      subject: AGENT_SERVICE_ACCOUNT,
      audiences: [TOKEN_EXCHANGE_AUDIENCE],
    }));
  }

  /** Picks the identity a request names, as IMDS does. */
  select(by?: { clientId?: string; objectId?: string; resourceId?: string }): Selection {
    const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    if (by?.clientId || by?.objectId || by?.resourceId) {
      const found = this.userAssigned.find(
        (i) =>
          (by.clientId !== undefined && eq(i.clientId, by.clientId)) ||
          (by.objectId !== undefined && eq(i.objectId, by.objectId)) ||
          (by.resourceId !== undefined && eq(i.resourceId, by.resourceId)),
      );
      return found ? { ok: true, identity: found } : { ok: false, reason: 'notFound' };
    }
    if (this.systemAssigned) return { ok: true, identity: this.systemAssigned };
    if (this.userAssigned.length === 1) return { ok: true, identity: this.userAssigned[0] };
    return { ok: false, reason: this.userAssigned.length > 1 ? 'multiple' : 'notFound' };
  }

  knowsResource(resource: string): boolean {
    return this.knownResources.has(normaliseResource(resource));
  }
}

export function normaliseResource(resource: string): string {
  return resource.trim().replace(/\/\.default$/i, '').replace(/\/+$/, '').toLowerCase();
}
