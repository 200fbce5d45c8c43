/**
 * Where the identity looks: the subscription, the resource group, and every
 * resource in the group (all pages), with a count by type.
 */
import { ARM_API_VERSIONS, ArmClient } from './arm';

export interface SubscriptionInfo {
  subscriptionId: string;
  displayName: string;
  state: string;
  tenantId: string;
}

export interface ResourceGroupInfo {
  name: string;
  location: string;
  provisioningState: string;
}

export interface ResourceInfo {
  name: string;
  type: string;
  location: string;
  id: string;
}

interface ArmSubscription {
  subscriptionId?: string;
  displayName?: string;
  state?: string;
  tenantId?: string;
}

interface ArmResourceGroup {
  name?: string;
  location?: string;
  properties?: { provisioningState?: string };
}

interface ArmResource {
  id?: string;
  name?: string;
  type?: string;
  location?: string;
}

export async function readSubscription(arm: ArmClient, subscriptionId: string): Promise<SubscriptionInfo> {
  const s = await arm.get<ArmSubscription>(`/subscriptions/${subscriptionId}`, ARM_API_VERSIONS.subscriptions);
  return { subscriptionId: s.subscriptionId ?? subscriptionId, displayName: s.displayName ?? '', state: s.state ?? '', tenantId: s.tenantId ?? '' };
}

export async function readResourceGroup(arm: ArmClient, subscriptionId: string, resourceGroup: string): Promise<ResourceGroupInfo> {
  const g = await arm.get<ArmResourceGroup>(resourceGroupId(subscriptionId, resourceGroup), ARM_API_VERSIONS.resourceGroups);
  return { name: g.name ?? resourceGroup, location: g.location ?? '', provisioningState: g.properties?.provisioningState ?? '' };
}

export async function listResources(arm: ArmClient, subscriptionId: string, resourceGroup: string): Promise<ResourceInfo[]> {
  const items = await arm.list<ArmResource>(`${resourceGroupId(subscriptionId, resourceGroup)}/resources`, ARM_API_VERSIONS.resources);
  return items.map((r) => ({ name: r.name ?? '', type: r.type ?? '', location: r.location ?? '', id: r.id ?? '' }));
}

export function resourceGroupId(subscriptionId: string, resourceGroup: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
}

/** [type, count], most common first, then by name. */
export function countByType(resources: readonly ResourceInfo[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const r of resources) {
    const key = r.type.toLowerCase();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  // Show each type as the first resource of it spells it.
  const spelled = new Map<string, string>();
  for (const r of resources) if (!spelled.has(r.type.toLowerCase())) spelled.set(r.type.toLowerCase(), r.type);
  return [...counts.entries()]
    .map(([k, n]): [string, number] => [spelled.get(k) ?? k, n])
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
