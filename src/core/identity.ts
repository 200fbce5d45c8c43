/**
 * Which managed identity to use: the system-assigned one, or a user-assigned
 * one named by client ID, object (principal) ID or resource ID. Validated
 * before any request, so a typo never reaches an endpoint.
 */
import { isGuid } from './audience';
import { ManagedIdentityError } from './errors';

export type IdentityIdType = 'clientId' | 'objectId' | 'resourceId';

export type IdentitySelector = { kind: 'system' } | { kind: IdentityIdType; id: string };

export const SYSTEM_ASSIGNED: IdentitySelector = { kind: 'system' };

const USER_ASSIGNED_ID =
  /^\/subscriptions\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/resourcegroups\/[-\w._()]+\/providers\/microsoft\.managedidentity\/userassignedidentities\/[-\w]+$/i;

const ID_LABEL: Record<IdentityIdType, string> = {
  clientId: 'client ID',
  objectId: 'object (principal) ID',
  resourceId: 'resource ID',
};

export function identityIdLabel(kind: IdentityIdType): string {
  return ID_LABEL[kind];
}

export function userAssigned(kind: IdentityIdType, rawId: string): IdentitySelector {
  const id = rawId.trim();
  if (!id) throw new ManagedIdentityError('badInput', 'IdentityIdMissing', ID_LABEL[kind]);
  if (kind === 'resourceId') {
    if (!USER_ASSIGNED_ID.test(id)) throw new ManagedIdentityError('badInput', 'IdentityIdNotResourceId', id);
  } else if (!isGuid(id)) {
    throw new ManagedIdentityError('badInput', 'IdentityIdNotGuid', id, kind);
  }
  return { kind, id };
}

export function describeIdentity(identity: IdentitySelector): string {
  return identity.kind === 'system' ? 'system-assigned' : `user-assigned (${ID_LABEL[identity.kind]} ${identity.id})`;
}
