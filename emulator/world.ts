/**
 * The Azure around the emulated machine, for Resource Manager and Key Vault:
 * its subscription and resource groups, the resources in them, Key Vaults
 * with secrets, and role assignments. Seeded from the Machine, so every ID
 * matches the identities the minted tokens name. Tests, the demo and the
 * benchmark reshape it freely (more resources, other vaults, other roles).
 *
 * The seed: the VM's resource group with the VM, its disk, network interface,
 * virtual network and the user-assigned identities; the Key Vaults kv-agents
 * (Azure RBAC, the system-assigned identity has Key Vault Secrets User) and
 * kv-legacy (access policies: the system-assigned identity may get and list
 * secrets); and Reader for the system-assigned identity on the group.
 */
import { randomBytes } from 'node:crypto';
import type { Machine } from './identities';
import type { AzureEmulator } from './server';

export interface RoleDefinition {
  roleName: string;
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
}

const role = (roleName: string, actions: string[], dataActions: string[] = [], notActions: string[] = []): RoleDefinition => ({
  roleName,
  actions,
  notActions,
  dataActions,
  notDataActions: [],
});

/** Built-in roles, as Azure defines them (the parts that matter here). */
export const ROLES = {
  Reader: role('Reader', ['*/read']),
  Contributor: role('Contributor', ['*'], [], ['Microsoft.Authorization/*/Delete', 'Microsoft.Authorization/*/Write', 'Microsoft.Authorization/elevateAccess/Action']),
  KeyVaultReader: role(
    'Key Vault Reader',
    ['Microsoft.Authorization/*/read', 'Microsoft.Resources/subscriptions/resourceGroups/read', 'Microsoft.KeyVault/checkNameAvailability/read', 'Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/operations/read'],
    ['Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/vaults/secrets/readMetadata/action'],
  ),
  KeyVaultSecretsUser: role('Key Vault Secrets User', [], ['Microsoft.KeyVault/vaults/secrets/getSecret/action', 'Microsoft.KeyVault/vaults/secrets/readMetadata/action']),
} as const;

export interface RoleAssignment {
  principalId: string;
  /** /subscriptions/…, …/resourceGroups/…, or a resource ID. */
  scope: string;
  role: RoleDefinition;
  /** An ABAC condition, shown in the permissions list. */
  condition?: string;
}

export interface WorldResource {
  id: string;
  name: string;
  type: string;
  location: string;
  tags?: Record<string, string>;
}

export interface WorldSecret {
  name: string;
  /** Never returned by a list; only GET secret (which the task must never call) gives it. */
  value: string;
  enabled: boolean;
  contentType?: string;
  created: number;
  updated: number;
  exp?: number;
}

export interface AccessPolicy {
  objectId: string;
  secrets?: string[];
  keys?: string[];
  certificates?: string[];
}

export interface WorldVault {
  name: string;
  id: string;
  resourceGroup: string;
  location: string;
  tenantId: string;
  /** Azure RBAC (true) or access policies (false). */
  rbac: boolean;
  accessPolicies: AccessPolicy[];
  secrets: WorldSecret[];
  defaultAction: 'Allow' | 'Deny';
  ipRules: string[];
  virtualNetworkRules: string[];
  publicNetworkAccess: 'Enabled' | 'Disabled';
  privateEndpoints: Array<{ name: string; status: 'Approved' | 'Pending' | 'Rejected' | 'Disconnected' }>;
  softDeleteRetentionInDays: number;
  purgeProtection: boolean;
  /** The token audience the data plane accepts; another one gets the 401 challenge naming it. */
  audience: string;
}

export interface VaultSeed extends Partial<Omit<WorldVault, 'id' | 'secrets'>> {
  name: string;
  /** How many secrets (named secret-0001, …), or their names. */
  secrets?: number | string[];
}

export interface ResourceGroup {
  name: string;
  location: string;
}

const RESOURCE_TYPES = [
  ['Microsoft.Storage/storageAccounts', 'st'],
  ['Microsoft.Web/sites', 'app'],
  ['Microsoft.Network/networkInterfaces', 'nic'],
  ['Microsoft.Compute/disks', 'disk'],
  ['Microsoft.Network/publicIPAddresses', 'pip'],
  ['Microsoft.Insights/components', 'appi'],
  ['Microsoft.Sql/servers', 'sql'],
  ['Microsoft.ContainerRegistry/registries', 'acr'],
] as const;

/** What the instance metadata tells about the VM (besides the Machine's names and IDs). */
export interface VmDetails {
  size: string;
  osType: 'Linux' | 'Windows';
  zone: string;
  /** As IMDS spells it: AzurePublicCloud, AzureUSGovernmentCloud, AzureChinaCloud. */
  azEnvironment: string;
  /** Empty for a stand-alone VM. */
  scaleSet: string;
  tags: Array<{ name: string; value: string }>;
  privateIp: string;
}

export class AzureWorld {
  readonly location = 'westeurope';
  subscriptionName = 'Build agents';
  readonly vm: VmDetails = {
    size: 'Standard_D4s_v5',
    osType: 'Linux',
    zone: '1',
    azEnvironment: 'AzurePublicCloud',
    scaleSet: '',
    tags: [
      { name: 'role', value: 'build-agent' },
      { name: 'team', value: 'platform' },
    ],
    privateIp: '10.1.0.4',
  };
  readonly resourceGroups: ResourceGroup[] = [];
  readonly resources: WorldResource[] = [];
  readonly vaults: WorldVault[] = [];
  readonly roleAssignments: RoleAssignment[] = [];
  /** Resource Manager list page size (resources: at most 1,000 a page, as ARM). */
  resourcePageSize = 1000;
  /** Key Vault list page size (maxresults: at most 25 a page, as Key Vault). */
  secretPageSize = 25;
  private generated = 0;

  constructor(readonly machine: Machine) {
    const m = machine;
    this.addResourceGroup(m.resourceGroup);
    const vm = `/subscriptions/${m.subscriptionId}/resourceGroups/${m.resourceGroup}/providers`;
    this.addResource({ id: m.vmResourceId, name: m.vmName, type: 'Microsoft.Compute/virtualMachines', location: this.location, tags: { role: 'build-agent' } });
    this.addResource({ id: `${vm}/Microsoft.Compute/disks/${m.vmName}_OsDisk_1`, name: `${m.vmName}_OsDisk_1`, type: 'Microsoft.Compute/disks', location: this.location });
    this.addResource({ id: `${vm}/Microsoft.Network/networkInterfaces/${m.vmName}-nic`, name: `${m.vmName}-nic`, type: 'Microsoft.Network/networkInterfaces', location: this.location });
    this.addResource({ id: `${vm}/Microsoft.Network/virtualNetworks/vnet-agents`, name: 'vnet-agents', type: 'Microsoft.Network/virtualNetworks', location: this.location });
    for (const u of m.userAssigned) {
      this.addResource({ id: u.resourceId.replace('/resourcegroups/', '/resourceGroups/'), name: u.name, type: 'Microsoft.ManagedIdentity/userAssignedIdentities', location: this.location });
    }
    const system = m.systemAssigned?.objectId;
    const agents = this.addVault({ name: 'kv-agents', rbac: true, secrets: ['registry-password', 'sonar-token', 'nuget-api-key'] });
    this.addVault({
      name: 'kv-legacy',
      rbac: false,
      secrets: ['deploy-key', 'smtp-password'],
      accessPolicies: system ? [{ objectId: system, secrets: ['get', 'list'] }] : [],
    });
    if (system) {
      this.assign(system, ROLES.Reader, this.groupId(m.resourceGroup));
      this.assign(system, ROLES.KeyVaultSecretsUser, agents.id);
    }
  }

  groupId(resourceGroup: string): string {
    return `/subscriptions/${this.machine.subscriptionId}/resourceGroups/${resourceGroup}`;
  }

  addResourceGroup(name: string, location = this.location): ResourceGroup {
    const group = { name, location };
    this.resourceGroups.push(group);
    return group;
  }

  addResource(resource: WorldResource): WorldResource {
    this.resources.push(resource);
    return resource;
  }

  /** Adds `count` resources of assorted types to a group (default: the VM's). */
  addResources(count: number, resourceGroup = this.machine.resourceGroup): void {
    for (let i = 0; i < count; i++) {
      const n = ++this.generated;
      const [type, prefix] = RESOURCE_TYPES[n % RESOURCE_TYPES.length];
      const name = `${prefix}${String(n).padStart(5, '0')}`;
      this.addResource({ id: `${this.groupId(resourceGroup)}/providers/${type}/${name}`, name, type, location: this.location, tags: { env: 'ci', index: String(n) } });
    }
  }

  addVault(seed: VaultSeed): WorldVault {
    const resourceGroup = seed.resourceGroup ?? this.machine.resourceGroup;
    const now = Math.floor(Date.now() / 1000);
    const names = typeof seed.secrets === 'number' ? Array.from({ length: seed.secrets }, (_, i) => `secret-${String(i + 1).padStart(4, '0')}`) : (seed.secrets ?? []);
    const { secrets: _ignored, ...rest } = seed;
    const vault: WorldVault = {
      location: this.location,
      tenantId: this.machine.tenantId,
      rbac: true,
      accessPolicies: [],
      defaultAction: 'Allow',
      ipRules: [],
      virtualNetworkRules: [],
      publicNetworkAccess: 'Enabled',
      privateEndpoints: [],
      softDeleteRetentionInDays: 90,
      purgeProtection: false,
      audience: 'https://vault.azure.net',
      ...rest,
      resourceGroup,
      id: `${this.groupId(resourceGroup)}/providers/Microsoft.KeyVault/vaults/${seed.name}`,
      secrets: names.map((name, i) => ({
        name,
        value: `emu-secret-value-${randomBytes(12).toString('hex')}`,
        enabled: true,
        contentType: i % 3 === 0 ? 'text/plain' : undefined,
        created: now - 86_400 * (i + 1),
        updated: now - 3600 * (i + 1),
        exp: i % 4 === 0 ? now + 86_400 * 180 : undefined,
      })),
    };
    this.vaults.push(vault);
    this.addResource({ id: vault.id, name: vault.name, type: 'Microsoft.KeyVault/vaults', location: vault.location });
    return vault;
  }

  vault(name: string): WorldVault | undefined {
    return this.vaults.find((v) => v.name.toLowerCase() === name.toLowerCase());
  }

  assign(principalId: string, definition: RoleDefinition, scope: string, condition?: string): RoleAssignment {
    const assignment = { principalId, role: definition, scope, condition };
    this.roleAssignments.push(assignment);
    return assignment;
  }

  /** The assignments of a principal that apply at a scope: made there or at any scope above it. */
  assignmentsAt(principalId: string, scope: string): RoleAssignment[] {
    const target = scope.toLowerCase();
    return this.roleAssignments.filter((a) => {
      const at = a.scope.toLowerCase().replace(/\/+$/, '');
      return a.principalId.toLowerCase() === principalId.toLowerCase() && (target === at || target.startsWith(`${at}/`));
    });
  }

  /** Whether a principal may perform an action (or data action) at a scope. */
  allows(principalId: string, action: string, scope: string, data = false): boolean {
    return this.assignmentsAt(principalId, scope).some((a) => {
      const allow = data ? a.role.dataActions : a.role.actions;
      const deny = data ? a.role.notDataActions : a.role.notActions;
      return allow.some((p) => wildcard(p, action)) && !deny.some((p) => wildcard(p, action));
    });
  }
}

/** A * pattern, compared without regard to case: the parts between the stars, in order. */
export function wildcard(pattern: string, text: string): boolean {
  const parts = pattern.toLowerCase().split('*');
  const s = text.toLowerCase();
  if (parts.length === 1) return s === parts[0];
  const first = parts[0];
  const last = parts[parts.length - 1];
  if (!s.startsWith(first) || !s.endsWith(last) || s.length < first.length + last.length) return false;
  let at = first.length;
  for (const middle of parts.slice(1, -1)) {
    const found = s.indexOf(middle, at);
    if (found < 0 || found + middle.length > s.length - last.length) return false;
    at = found + middle.length;
  }
  return true;
}

const worlds = new WeakMap<AzureEmulator, AzureWorld>();

/** The emulator's Azure (made, with its seed, on first use). */
export function worldOf(emu: AzureEmulator): AzureWorld {
  let world = worlds.get(emu);
  if (!world) {
    world = new AzureWorld(emu.machine);
    worlds.set(emu, world);
  }
  return world;
}
