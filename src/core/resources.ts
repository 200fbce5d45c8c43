/**
 * Where the identity looks: the subscription, the resource group, and every
 * resource in the group (all pages), with a count by type.
 */
import { ARM_API_VERSIONS, ArmClient } from './arm';
import { isGuid } from './audience';
import { ManagedIdentityError } from './errors';
import { asObject, asString } from './json';

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

export async function readSubscription(arm: ArmClient, subscriptionId: string): Promise<SubscriptionInfo> {
  const s = asObject(await arm.get<unknown>(`/subscriptions/${subscriptionId}`, ARM_API_VERSIONS.subscriptions));
  return { subscriptionId: asString(s.subscriptionId) ?? subscriptionId, displayName: asString(s.displayName) ?? '', state: asString(s.state) ?? '', tenantId: asString(s.tenantId) ?? '' };
}

export async function readResourceGroup(arm: ArmClient, subscriptionId: string, resourceGroup: string): Promise<ResourceGroupInfo> {
  const g = asObject(await arm.get<unknown>(resourceGroupId(subscriptionId, resourceGroup), ARM_API_VERSIONS.resourceGroups));
  return { name: asString(g.name) ?? resourceGroup, location: asString(g.location) ?? '', provisioningState: asString(asObject(g.properties).provisioningState) ?? '' };
}

export async function listResources(arm: ArmClient, subscriptionId: string, resourceGroup: string): Promise<ResourceInfo[]> {
  const items = await arm.list<unknown>(`${resourceGroupId(subscriptionId, resourceGroup)}/resources`, ARM_API_VERSIONS.resources);
  return items.map(asObject).map((r) => ({ name: asString(r.name) ?? '', type: asString(r.type) ?? '', location: asString(r.location) ?? '', id: asString(r.id) ?? '' }));
}

/** A resource group name: 1 to 90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.' (no '/', '?', '#' or '%' to change a URL). */
export function isResourceGroupName(name: string): boolean {
  return /^[-\w.()]{0,89}[-\w()]$/.test(name);
}

/** The subscriptionId input, parsed where it comes in: trimmed, undefined when empty, badInput when not a GUID. */
export function parseSubscriptionId(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  if (!isGuid(value)) throw new ManagedIdentityError('badInput', 'SubscriptionIdInvalid', value.slice(0, 100));
  return value;
}

/** The resourceGroup input, parsed where it comes in: trimmed, undefined when empty, badInput when not a group name. */
export function parseResourceGroup(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  if (!isResourceGroupName(value)) throw new ManagedIdentityError('badInput', 'ResourceGroupInvalid', value.slice(0, 100));
  return value;
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
