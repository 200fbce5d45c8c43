/**
 * What ManagedIdentityInfo@1 finds out, section by section: who the identity
 * is (the ARM token's claims), where it runs (instance metadata), what the
 * named Key Vaults are and whether it may use them, what is in its resource
 * group, and what it may do there. Reads only. A section that fails keeps its
 * error and the others go on; the caller decides what that means for the task.
 */
import { acquireToken, AcquireOptions, TokenResult } from './acquire';
import { armClient, ArmClient } from './arm';
import { isGuid } from './audience';
import type { Cloud } from './clouds';
import { isManagedIdentityError, ManagedIdentityError } from './errors';
import { describeIdentity } from './identity';
import { cloudOfEnvironment, InstanceInfo, readInstanceMetadata } from './instance';
import { clientIdOf } from './jwt';
import { describeVault, findVault, listSecretNames, policyAllowsSecret, SecretList, VaultInfo, VaultRef } from './keyvault';
import type { Message } from './messages';
import { check, listPermissions, Permission, Verdict } from './permissions';
import { countByType, isResourceGroupName, listResources, readResourceGroup, readSubscription, resourceGroupId, ResourceGroupInfo, ResourceInfo, SubscriptionInfo } from './resources';
import { sanitize } from './token-response';
import { assertBearerUrl, RestOptions } from './rest';
import { readVmIdentities, VmIdentities } from './vm-identities';

export const SECTIONS = ['identity', 'instance', 'identities', 'keyVault', 'resources', 'permissions'] as const;
export type SectionName = (typeof SECTIONS)[number];

/** The sections input: names, comma or newline separated; empty means all that apply. */
export function parseSections(input: string): SectionName[] | undefined {
  const names = input.split(/[,\s]+/).filter(Boolean);
  if (names.length === 0) return undefined;
  return names.map((n) => {
    const found = SECTIONS.find((s) => s.toLowerCase() === n.toLowerCase());
    if (!found) throw new ManagedIdentityError('badInput', 'SectionUnknown', n.slice(0, 50), SECTIONS.join(', '));
    return found;
  });
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: Error };

export interface InfoOptions {
  /** What acquireToken needs besides the audience: identity, timeout, env, retry hooks. */
  token: Omit<AcquireOptions, 'audience' | 'cloud'>;
  cloud: Cloud;
  /** The sections asked for; undefined: all that apply. */
  sections?: SectionName[];
  /** Parsed where it came in (parseSubscriptionId); undefined: the VM's own. */
  subscriptionId?: string;
  /** Parsed where it came in (parseResourceGroup); undefined: the VM's own. */
  resourceGroup?: string;
  keyVaults?: VaultRef[];
  listSecretNames?: boolean;
  /** Network, timeouts and retries for Resource Manager and Key Vault (and the instance metadata, without the network). */
  rest?: RestOptions;
  env?: NodeJS.ProcessEnv;
  /** Called with each token as it arrives, before it is used (the task registers it with the log masking). */
  onToken?: (token: string) => void;
}

export interface IdentityInfo {
  identity: string;
  source: string;
  tenantId?: string;
  objectId?: string;
  clientId?: string;
  resourceId?: string;
  issuer?: string;
  audience?: string;
  expiresOn: string;
}

export interface VaultChecks {
  readVault: Verdict;
  listSecrets: Verdict;
  readSecrets: Verdict;
}

export interface KeyVaultReport {
  ref: VaultRef;
  vault: Outcome<VaultInfo>;
  /** The identity's permissions at the vault's scope (Azure RBAC), when read. */
  permissions?: Outcome<VaultChecks>;
  /** With listSecretNames. */
  secrets?: Outcome<SecretList>;
}

export interface ResourcesReport {
  /** Undefined when the identity may not read the subscription. */
  subscription?: SubscriptionInfo;
  resourceGroup: ResourceGroupInfo;
  resources: ResourceInfo[];
  byType: Array<[string, number]>;
}

export interface PermissionsReport {
  scope: string;
  entries: Permission[];
  readResourceGroup: Verdict;
}

export interface InfoReport {
  /** The sections shown, in order. */
  sections: SectionName[];
  scope: { subscriptionId?: string; resourceGroup?: string; from: 'inputs' | 'instance' | 'none' };
  identity?: Outcome<IdentityInfo>;
  instance?: Outcome<InstanceInfo>;
  /** The identities assigned to this VM or scale set (its identity block in Resource Manager). */
  identities?: Outcome<VmIdentities>;
  /** Why the identities section, not asked for by name, shows no list: the identity may not read its VM (the advice names the role). */
  identitiesNotShown?: Error;
  keyVaults?: KeyVaultReport[];
  resources?: Outcome<ResourcesReport>;
  permissions?: Outcome<PermissionsReport>;
  /** Things worth a warning that are not failures: the cloud does not fit the VM, a vault in another tenant, … */
  notes: Message[];
  /** Why the instance section, not asked for by name, was left out: no instance metadata answered (not an Azure VM). */
  instanceSkipped?: string;
}

/** Where a verdict about a vault's secrets comes from. */
export type AccessBasis = 'listed' | 'accessPolicy' | 'rbac' | 'unknown';

/** What the identity may do with a vault's secrets, from the best evidence there is. */
export interface VaultAccess {
  listSecrets: Verdict | 'unknown';
  /** listed: the secrets were listed (or refused); accessPolicy: from the vault's policies; rbac: from role assignments. */
  listBasis: AccessBasis;
  readSecrets: Verdict | 'unknown';
  readBasis: AccessBasis;
}

export function vaultAccess(kv: KeyVaultReport): VaultAccess {
  let list: Verdict | 'unknown' = 'unknown';
  let read: Verdict | 'unknown' = 'unknown';
  let basis: AccessBasis = 'unknown';
  if (kv.vault.ok && kv.vault.value.authorization === 'accessPolicies') {
    const vault = kv.vault.value;
    const yesNo = (p: string): Verdict => (policyAllowsSecret(vault, p) ? 'yes' : 'no');
    [list, read, basis] = [yesNo('list'), yesNo('get'), 'accessPolicy'];
  } else if (kv.vault.ok && kv.permissions?.ok) {
    [list, read, basis] = [kv.permissions.value.listSecrets, kv.permissions.value.readSecrets, 'rbac'];
  }
  const refused = kv.secrets && !kv.secrets.ok && isManagedIdentityError(kv.secrets.error) && /^KeyVault(ForbiddenByRbac|AccessDenied)$/.test(kv.secrets.error.key);
  if (kv.secrets?.ok || refused) return { listSecrets: refused ? 'no' : 'yes', listBasis: 'listed', readSecrets: read, readBasis: basis };
  return { listSecrets: list, listBasis: basis, readSecrets: read, readBasis: basis };
}

async function outcome<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e : new Error(String(e)) };
  }
}

/** The sections that apply when none are named: the instance is tried, Key Vault needs names. */
function sectionsToRun(options: InfoOptions): { sections: SectionName[]; explicit: boolean } {
  if (options.sections) return { sections: SECTIONS.filter((s) => options.sections!.includes(s)), explicit: true };
  return { sections: SECTIONS.filter((s) => s !== 'keyVault' || (options.keyVaults ?? []).length > 0), explicit: false };
}

export async function gatherInfo(options: InfoOptions): Promise<InfoReport> {
  const { sections, explicit } = sectionsToRun(options);
  const has = (s: SectionName) => sections.includes(s);
  const vaultRefs = options.keyVaults ?? [];
  if (has('keyVault') && vaultRefs.length === 0) throw new ManagedIdentityError('badInput', 'KeyVaultNamesMissing');
  const usesArm = has('identity') || has('identities') || has('keyVault') || has('resources') || has('permissions');
  // Refuse a plain-http Resource Manager before any token is asked for.
  if (usesArm) assertBearerUrl(options.cloud.armEndpoint);

  const report: InfoReport = { sections: [...sections], scope: { from: 'none' }, notes: [] };
  const rest = options.rest ?? {};
  const env = options.env ?? process.env;

  // Where to look: the inputs, else the VM's own subscription and group.
  const needGroup = has('resources') || has('permissions');
  const needSubscription = needGroup || (has('keyVault') && vaultRefs.some((r) => !r.id));
  let subscriptionId = options.subscriptionId;
  let resourceGroup = options.resourceGroup;
  const scopeMissing = (needSubscription && !subscriptionId) || (needGroup && !resourceGroup);
  let instance: Outcome<InstanceInfo> | undefined;
  if (has('instance') || has('identities') || scopeMissing) {
    instance = await outcome(() => readInstanceMetadata({ env, timeoutSeconds: rest.timeoutSeconds, clock: rest.clock, retryPolicy: rest.retryPolicy, onRetry: rest.onRetry }));
    if (scopeMissing) {
      if (!instance.ok) throw new ManagedIdentityError('badInput', 'ScopeRequired', instance.error.message);
      // The answer's values go into Resource Manager URLs: they pass the checks the inputs pass, or count as missing.
      const { subscriptionId: sub, resourceGroup: group } = instance.value;
      subscriptionId ??= isGuid(sub) ? sub : undefined;
      resourceGroup ??= isResourceGroupName(group) ? group : undefined;
      if ((needSubscription && !subscriptionId) || (needGroup && !resourceGroup)) {
        const answered = `subscriptionId '${sanitize(sub).slice(0, 100)}', resourceGroupName '${sanitize(group).slice(0, 100)}'`;
        throw new ManagedIdentityError('badInput', 'ScopeRequired', answered);
      }
    }
    if (!instance.ok && isManagedIdentityError(instance.error) && instance.error.kind === 'noEndpoint' && !explicit) {
      // Not a VM: neither the instance nor its identities apply.
      report.sections = report.sections.filter((s) => s !== 'instance' && s !== 'identities');
      report.instanceSkipped = instance.error.message;
    } else if (has('instance')) report.instance = instance;
    if (instance.ok) cloudNote(report, options.cloud, instance.value);
  }
  report.scope = { subscriptionId, resourceGroup, from: scopeMissing ? 'instance' : subscriptionId || resourceGroup ? 'inputs' : 'none' };
  if (!usesArm) return report;

  // Tokens: one for Resource Manager, one per Key Vault resource, each asked for once.
  const tokens = new Map<string, Promise<TokenResult>>();
  const tokenFor = (audience: string): Promise<TokenResult> => {
    let t = tokens.get(audience);
    if (!t) {
      // Resource Manager's audience comes from the cloud, Key Vault's from its challenge (checked in keyvault.ts): resources already.
      t = acquireToken({ ...options.token, cloud: options.cloud, audience: { resource: audience } }).then((r) => {
        options.onToken?.(r.token);
        return r;
      });
      tokens.set(audience, t);
    }
    return t;
  };
  const armToken = await outcome(() => tokenFor(options.cloud.armAudience));
  if (armToken.ok) report.notes.push(...armToken.value.warnings);
  const claims = armToken.ok ? armToken.value.claims : undefined;
  const objectId = typeof claims?.oid === 'string' ? claims.oid : undefined;
  const tenantId = typeof claims?.tid === 'string' ? claims.tid : undefined;
  const arm: Outcome<ArmClient> = armToken.ok
    ? { ok: true, value: armClient(options.cloud.armEndpoint, armToken.value.token, { objectId, audience: typeof claims?.aud === 'string' ? claims.aud : options.cloud.armAudience }, rest) }
    : armToken;
  /** A Resource Manager section: its work, or the token's error when there is no token. */
  const armOrFail = <T>(work: (client: ArmClient) => Promise<T>): Promise<Outcome<T>> => (arm.ok ? outcome(() => work(arm.value)) : Promise.resolve(arm));

  if (has('identity')) report.identity = armToken.ok ? { ok: true, value: identityInfo(armToken.value) } : armToken;
  if (report.sections.includes('identities') && instance) {
    const vm = instance;
    const got = vm.ok ? await armOrFail(async (client) => ({ ...(await readVmIdentities(client, vm.value)), callerObjectId: objectId })) : vm;
    // Not asked for by name: an identity that may not read its VM is told which role would show them, without a warning.
    if (!got.ok && !explicit && isManagedIdentityError(got.error) && got.error.key === 'ArmAuthorizationFailed') report.identitiesNotShown = got.error;
    else report.identities = got;
  }

  if (vaultRefs.length && (has('keyVault') || has('permissions'))) {
    report.keyVaults = [];
    for (const ref of vaultRefs) {
      const vault = await armOrFail(async (client) => describeVault(await findVault(client, subscriptionId ?? '', ref), objectId));
      const kv: KeyVaultReport = { ref, vault };
      if (vault.ok) {
        if (tenantId && vault.value.tenantId && vault.value.tenantId.toLowerCase() !== tenantId.toLowerCase()) {
          report.notes.push({ key: 'VaultOtherTenant', args: [vault.value.name, vault.value.tenantId, tenantId] });
        }
        kv.permissions = await armOrFail(async (client) => {
          const entries = await listPermissions(client, vault.value.id);
          return { readVault: check(entries, 'readVault'), listSecrets: check(entries, 'listSecrets'), readSecrets: check(entries, 'readSecrets') };
        });
        if (has('keyVault') && options.listSecretNames) {
          kv.secrets = await outcome(() =>
            listSecretNames(vault.value, {
              ...rest,
              resource: options.cloud.keyVaultAudience,
              tokenFor: async (resource) => (await tokenFor(resource)).token,
              objectId,
              tenantId,
            }),
          );
        }
      }
      report.keyVaults.push(kv);
    }
  }

  if (has('resources')) {
    report.resources = await armOrFail(async (client) => {
      // The subscription's name is a nicety: the group's answer says what is wrong if anything is.
      const subscription = await readSubscription(client, subscriptionId!).catch(() => undefined);
      const group = await readResourceGroup(client, subscriptionId!, resourceGroup!);
      const resources = await listResources(client, subscriptionId!, resourceGroup!);
      return { subscription, resourceGroup: group, resources, byType: countByType(resources) };
    });
  }

  if (has('permissions')) {
    const scope = resourceGroupId(subscriptionId!, resourceGroup!);
    report.permissions = await armOrFail(async (client) => {
      const entries = await listPermissions(client, scope);
      return { scope, entries, readResourceGroup: check(entries, 'readResourceGroup') };
    });
  }
  return report;
}

function identityInfo(token: TokenResult): IdentityInfo {
  const c = token.claims;
  const s = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return {
    identity: describeIdentity(token.identity),
    source: token.sourceLabel,
    tenantId: s(c?.tid),
    objectId: s(c?.oid),
    clientId: clientIdOf(c) ?? token.clientId,
    resourceId: s(c?.xms_mirid),
    issuer: s(c?.iss),
    audience: s(c?.aud) ?? token.resource ?? token.requestedResource,
    expiresOn: token.expiresOn.toISOString(),
  };
}

function cloudNote(report: InfoReport, cloud: Cloud, instance: InstanceInfo): void {
  if (cloud.name === 'Custom' || !instance.azEnvironment) return;
  const fits = cloudOfEnvironment(instance.azEnvironment);
  if (fits !== cloud.name) report.notes.push({ key: 'CloudMismatch', args: [instance.azEnvironment, cloud.name, fits ?? 'Custom'] });
}
