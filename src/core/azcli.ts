/**
 * What the token task asks of the Azure CLI, as plain data: the version it
 * reports, the `az login --identity` arguments for the selected identity on
 * that version, the cloud commands for the chosen cloud, which subscription
 * an input names, and what to undo after the job. The task runs the commands.
 */
import { isGuid } from './audience';
import type { Cloud } from './clouds';
import type { IdentitySelector } from './identity';

/** The first Azure CLI with --client-id, --object-id and --resource-id on `az login --identity`. */
export const AZ_IDENTITY_FLAGS_VERSION = '2.69.0';

/** The name the task registers a Custom cloud under in the Azure CLI. */
export const AZ_CUSTOM_CLOUD_NAME = 'ManagedIdentityCustomCloud';

/** The version of the CLI itself from `az version -o json` ({"azure-cli": "2.45.0", …}). */
export function parseAzVersion(output: string): string | undefined {
  try {
    const v: unknown = JSON.parse(output);
    const version = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)['azure-cli'] : undefined;
    return typeof version === 'string' && /^\d+\.\d+\.\d+/.test(version) ? version : undefined;
  } catch {
    return undefined;
  }
}

/** Compares dotted numeric versions (pre-release suffixes ignored): negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/[.+-]/).slice(0, 3).map((p) => Number.parseInt(p, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

export function hasIdentityFlags(version: string | undefined): boolean {
  return version !== undefined && compareVersions(version, AZ_IDENTITY_FLAGS_VERSION) >= 0;
}

const IDENTITY_FLAG = { clientId: '--client-id', objectId: '--object-id', resourceId: '--resource-id' } as const;

/**
 * `az login --identity …`: on CLI 2.69 and later the identity is named by its
 * kind; older CLIs take any of the three in --username and find out which.
 */
export function azLoginArgs(identity: IdentitySelector, version: string | undefined, allowNoSubscriptions: boolean): string[] {
  const args = ['login', '--identity'];
  if (identity.kind !== 'system') args.push(hasIdentityFlags(version) ? IDENTITY_FLAG[identity.kind] : '--username', identity.id);
  if (allowNoSubscriptions) args.push('--allow-no-subscriptions');
  args.push('--output', 'json');
  return args;
}

/** The user name the Azure CLI records for a managed identity login (what `az logout --username` takes). */
export function azIdentityUser(identity: IdentitySelector): string {
  return identity.kind === 'system' ? 'systemAssignedIdentity' : 'userAssignedIdentity';
}

/**
 * The commands that make the CLI use the chosen cloud. A fresh configuration
 * directory starts on AzureCloud. A Custom cloud is registered from its
 * Resource Manager URL: the CLI reads the authority and audience from
 * {arm}/metadata/endpoints (Azure Stack Hub), unless an audience is given.
 */
export function azCloudCommands(cloud: Cloud, options: { freshConfigDir: boolean; armAudience?: string; customRegistered?: boolean }): string[][] {
  if (cloud.name === 'AzureCloud') return options.freshConfigDir ? [] : [['cloud', 'set', '--name', 'AzureCloud']];
  if (cloud.name !== 'Custom') return [['cloud', 'set', '--name', cloud.name]];
  const endpoints = ['--endpoint-resource-manager', cloud.armEndpoint.replace(/\/+$/, '')];
  if (options.armAudience) endpoints.push('--endpoint-active-directory-resource-id', options.armAudience);
  return [
    ['cloud', options.customRegistered ? 'update' : 'register', '--name', AZ_CUSTOM_CLOUD_NAME, ...endpoints],
    ['cloud', 'set', '--name', AZ_CUSTOM_CLOUD_NAME],
  ];
}

export type SubscriptionRef = { by: 'id'; value: string } | { by: 'name'; value: string };

/**
 * The azSubscription input: a subscription ID (GUID) or a display name.
 * Undefined when empty; null when it is neither (a broken GUID, a resource
 * path, control characters, markup, or an implausible length).
 */
export function parseSubscription(raw: string): SubscriptionRef | undefined | null {
  const value = raw.trim();
  if (!value) return undefined;
  if (isGuid(value)) return { by: 'id', value: value.toLowerCase() };
  const brokenGuid = /^[0-9a-f{}-]{8,}$/i.test(value) && /\d/.test(value) && value.includes('-');
  const path = value.startsWith('/') || /^subscriptions\//i.test(value);
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u001f\u007f<>;|"`]/.test(value) || !/[\p{L}\p{N}]/u.test(value) || value.length > 128;
  return brokenGuid || path || bad ? null : { by: 'name', value };
}

export interface AzAccount {
  id: string;
  name: string;
  tenantId: string;
  isDefault: boolean;
}

/** The accounts `az login -o json` printed (one per subscription, or one per tenant with --allow-no-subscriptions). */
export function parseAzAccounts(output: string): AzAccount[] {
  let list: unknown;
  try {
    list = JSON.parse(output);
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  return list.flatMap((a: unknown) => {
    if (a === null || typeof a !== 'object') return [];
    const r = a as Record<string, unknown>;
    // Subscription and tenant IDs are GUIDs: anything else is not an account (and is never printed or exported).
    if (typeof r.id !== 'string' || !isGuid(r.id)) return [];
    const tenantId = typeof r.tenantId === 'string' && isGuid(r.tenantId) ? r.tenantId : '';
    return [{ id: r.id, name: typeof r.name === 'string' ? r.name : '', tenantId, isDefault: r.isDefault === true }];
  });
}

/** The account a subscription input names, or the default one. */
export function selectAccount(accounts: AzAccount[], wanted: SubscriptionRef | undefined): AzAccount | undefined {
  if (!wanted) return accounts.find((a) => a.isDefault) ?? accounts[0];
  const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  return accounts.find((a) => (wanted.by === 'id' ? eq(a.id, wanted.value) : eq(a.name, wanted.value)));
}

/** What the post-job step needs to undo a login: kept in a task variable between the two steps. */
export interface AzLoginRecord {
  /** The AZURE_CONFIG_DIR the login was written to. */
  configDir: string;
  /** True when the task made that directory (then it is removed); false when it was the user's. */
  createdConfigDir: boolean;
  /** The CLI user name of the identity (systemAssignedIdentity or userAssignedIdentity). */
  user: string;
  /** The longest one az command may run (the task's timeoutSeconds). */
  timeoutSeconds?: number;
  /** A folder the task made: the random value of the marker file inside it, which proves the folder is this job's. */
  marker?: string;
  /** The user's folder: a login of this identity was there before the task's (then it is not signed out). */
  loginExisted?: boolean;
  /** The user's folder: the cloud that was active before the task changed it (then it is made active again). */
  previousCloud?: string;
}

/** The file inside a configuration folder the task made, holding the record's marker. */
export const CONFIG_DIR_MARKER_FILE = '.managed-identity-token';

const MARKER = /^[0-9a-f]{32}$/;
const CLOUD_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export function serializeLoginRecord(record: AzLoginRecord): string {
  return JSON.stringify(record);
}

export function parseLoginRecord(text: string | undefined): AzLoginRecord | undefined {
  if (!text) return undefined;
  try {
    const r = JSON.parse(text) as Partial<AzLoginRecord> | null;
    if (r === null || typeof r !== 'object' || typeof r.configDir !== 'string' || !r.configDir || typeof r.createdConfigDir !== 'boolean' || typeof r.user !== 'string') return undefined;
    const record: AzLoginRecord = { configDir: r.configDir, createdConfigDir: r.createdConfigDir, user: r.user };
    if (typeof r.timeoutSeconds === 'number' && r.timeoutSeconds > 0) record.timeoutSeconds = r.timeoutSeconds;
    if (typeof r.marker === 'string' && MARKER.test(r.marker)) record.marker = r.marker;
    if (typeof r.loginExisted === 'boolean') record.loginExisted = r.loginExisted;
    if (typeof r.previousCloud === 'string' && CLOUD_NAME.test(r.previousCloud)) record.previousCloud = r.previousCloud;
    return record;
  } catch {
    return undefined;
  }
}

/** Whether `az account list -o json` lists a login of this CLI user (systemAssignedIdentity, userAssignedIdentity). */
export function hasLoginOf(output: string, user: string): boolean {
  try {
    const list: unknown = JSON.parse(output);
    return Array.isArray(list) && list.some((a: unknown) => (a as { user?: { name?: unknown } } | null)?.user?.name === user);
  } catch {
    return false;
  }
}

/** The active cloud's name from `az cloud show -o json`, when it is a plausible one. */
export function parseActiveCloud(output: string): string | undefined {
  try {
    const name = (JSON.parse(output) as { name?: unknown } | null)?.name;
    return typeof name === 'string' && CLOUD_NAME.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

/** The cloud name the task makes active in the CLI for this cloud. */
export function azCloudName(cloud: Cloud): string {
  return cloud.name === 'Custom' ? AZ_CUSTOM_CLOUD_NAME : cloud.name;
}

/**
 * The clean-up after the job: a directory the task made is cleared (and then
 * removed by the task); in the user's own directory things are left as they
 * were found: this identity is signed out only if the task added its login,
 * and the cloud that was active before is made active again.
 */
export function azCleanupCommands(record: AzLoginRecord): string[][] {
  if (record.createdConfigDir) return [['account', 'clear']];
  const commands: string[][] = [];
  if (!record.loginExisted) commands.push(['logout', '--username', record.user]);
  if (record.previousCloud) commands.push(['cloud', 'set', '--name', record.previousCloud]);
  return commands;
}
