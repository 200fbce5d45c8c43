/**
 * What the identity may do at a scope, from Microsoft.Authorization/permissions:
 * the actions and data actions of every role assigned to it at that scope or
 * above. An action is allowed when one entry's actions match it and that same
 * entry's notActions do not (notActions only subtract within their role).
 * Patterns use * as a wildcard and are compared without regard to case.
 * Deny assignments are not in this list, so a "yes" can still be overruled.
 */
import { ARM_API_VERSIONS, ArmClient } from './arm';
import { asObject, asString, asStrings } from './json';

export interface Permission {
  actions?: string[];
  notActions?: string[];
  dataActions?: string[];
  notDataActions?: string[];
  /** An ABAC condition that limits the assignment, if any. */
  condition?: string | null;
}

/** yes; no; or yes, but only where the assignment's condition holds. */
export type Verdict = 'yes' | 'no' | 'conditional';

/** The questions the task answers in words. */
export const CHECKS = {
  readResourceGroup: { action: 'Microsoft.Resources/subscriptions/resourceGroups/read', data: false },
  readVault: { action: 'Microsoft.KeyVault/vaults/read', data: false },
  listSecrets: { action: 'Microsoft.KeyVault/vaults/secrets/readMetadata/action', data: true },
  readSecrets: { action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action', data: true },
} as const;

export type CheckName = keyof typeof CHECKS;

/** GET {scope}/providers/Microsoft.Authorization/permissions: the caller's own permissions there. */
export async function listPermissions(arm: ArmClient, scope: string): Promise<Permission[]> {
  const items = await arm.list<unknown>(`${scope.replace(/\/+$/, '')}/providers/Microsoft.Authorization/permissions`, ARM_API_VERSIONS.permissions);
  return items.map(permissionOf);
}

/** One entry of the list, with only what its type allows (patterns are strings; anything else is left out). */
export function permissionOf(item: unknown): Permission {
  const p = asObject(item);
  const condition = p.condition === null ? null : asString(p.condition);
  return {
    actions: asStrings(p.actions),
    notActions: asStrings(p.notActions),
    dataActions: asStrings(p.dataActions),
    notDataActions: asStrings(p.notDataActions),
    ...(condition !== undefined ? { condition } : {}),
  };
}

/**
 * Whether an action pattern such as Microsoft.KeyVault/vaults/*\/read covers an action.
 * A wildcard match in O(pattern × action) at worst: a regular expression with one .* per *
 * backtracks exponentially on a pattern such as *a*a*a*…! that Resource Manager could send.
 */
export function actionMatches(pattern: string, action: string): boolean {
  const p = pattern.toLowerCase();
  const a = action.toLowerCase();
  let pi = 0;
  let ai = 0;
  let star = -1;
  let resume = 0;
  while (ai < a.length) {
    if (pi < p.length && p[pi] === '*') {
      star = pi++;
      resume = ai;
    } else if (pi < p.length && p[pi] === a[ai]) {
      pi++;
      ai++;
    } else if (star >= 0) {
      pi = star + 1;
      ai = ++resume;
    } else return false;
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

function granted(entry: Permission, action: string, data: boolean): boolean {
  const allow = (data ? entry.dataActions : entry.actions) ?? [];
  const deny = (data ? entry.notDataActions : entry.notActions) ?? [];
  return allow.some((p) => actionMatches(p, action)) && !deny.some((p) => actionMatches(p, action));
}

export function isAllowed(permissions: readonly Permission[], action: string, data: boolean): Verdict {
  const granting = permissions.filter((p) => granted(p, action, data));
  if (granting.length === 0) return 'no';
  return granting.some((p) => !p.condition) ? 'yes' : 'conditional';
}

export function check(permissions: readonly Permission[], name: CheckName): Verdict {
  const { action, data } = CHECKS[name];
  return isAllowed(permissions, action, data);
}
