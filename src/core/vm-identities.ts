/**
 * Which managed identities are assigned to this VM or scale set, from
 * Resource Manager: the resource's `identity` block (type, the system-assigned
 * principal, and each user-assigned identity's resource ID, client ID and
 * principal ID). On a scale set the identities are the scale set's. Needs
 * read access to the VM or scale set (Reader, or
 * Microsoft.Compute/virtualMachines/read); without it ARM's refusal says which role.
 */
import type { ArmClient } from './arm';
import type { InstanceInfo } from './instance';
import { asObject, asString, Json } from './json';

export const COMPUTE_API_VERSION = '2024-07-01';

export interface AssignedIdentity {
  name: string;
  resourceId: string;
  clientId?: string;
  principalId?: string;
}

export interface VmIdentities {
  /** The VM's or scale set's resource ID. */
  resourceId: string;
  kind: 'virtualMachine' | 'scaleSet';
  /** As ARM spells it: None, SystemAssigned, UserAssigned, "SystemAssigned, UserAssigned". */
  type: string;
  systemAssigned?: { principalId?: string; tenantId?: string };
  userAssigned: AssignedIdentity[];
  /** The object ID of the identity that asked (from its token), to mark it in the list. */
  callerObjectId?: string;
}

const str = (v: unknown): string | undefined => asString(v) || undefined;
const obj = asObject;

/** The resource that holds the identities: the scale set when the VM belongs to one, else the VM. */
export function identityHolder(instance: InstanceInfo): { resourceId: string; kind: VmIdentities['kind'] } {
  if (instance.scaleSet) {
    const id = `/subscriptions/${instance.subscriptionId}/resourceGroups/${instance.resourceGroup}/providers/Microsoft.Compute/virtualMachineScaleSets/${instance.scaleSet}`;
    return { resourceId: id, kind: 'scaleSet' };
  }
  return { resourceId: instance.resourceId, kind: 'virtualMachine' };
}

export function parseIdentityBlock(resourceId: string, kind: VmIdentities['kind'], resource: Json): VmIdentities {
  const identity = obj(resource.identity);
  const type = str(identity.type) ?? 'None';
  const system = /SystemAssigned/i.test(type) ? { principalId: str(identity.principalId), tenantId: str(identity.tenantId) } : undefined;
  const userAssigned = Object.entries(obj(identity.userAssignedIdentities))
    .map(([id, v]) => ({ name: id.split('/').pop() ?? id, resourceId: id, clientId: str(obj(v).clientId), principalId: str(obj(v).principalId) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { resourceId, kind, type, systemAssigned: system, userAssigned };
}

export async function readVmIdentities(client: ArmClient, instance: InstanceInfo): Promise<VmIdentities> {
  const { resourceId, kind } = identityHolder(instance);
  return parseIdentityBlock(resourceId, kind, await client.get<Json>(resourceId, COMPUTE_API_VERSION));
}
