/**
 * Key Vault, read only. The management plane (through ARM, api-version
 * 2024-11-01): the vault's configuration and, in access-policy mode, this
 * identity's policy. The data plane (api-version 7.6): the names and
 * attributes of the secrets, never their values, with Key Vault's 401
 * challenge answered once and its 403 reasons explained.
 */
import { ARM_API_VERSIONS, ArmClient } from './arm';
import { ManagedIdentityError } from './errors';
import { isoFromEpochSeconds } from './expiry';
import type { HttpResponse } from './http';
import { assertBearerUrl, collectPages, getWithToken, isLoopbackHost, jsonBody, pageOf, RestOptions, serviceError } from './rest';

export const KEY_VAULT_DATA_API_VERSION = '7.6';

export interface VaultRef {
  name: string;
  /** The full resource ID, when given as one. */
  id?: string;
}

/** 3 to 24 letters, digits and hyphens, starting with a letter, ending with a letter or digit. */
const VAULT_NAME = /^[a-z](?!.*--)[a-z0-9-]{1,22}[a-z0-9]$/i;
const VAULT_ID = /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.keyvault\/vaults\/([^/]+)$/i;

/** keyVaultNames: names or resource IDs, comma or newline separated. */
export function parseVaultRefs(input: string): VaultRef[] {
  const refs: VaultRef[] = [];
  for (const raw of input.split(/[,\r\n]+/).map((s) => s.trim()).filter(Boolean)) {
    const byId = VAULT_ID.exec(raw.replace(/\/+$/, ''));
    const ref = byId && VAULT_NAME.test(byId[1]) ? { name: byId[1], id: raw.replace(/\/+$/, '') } : VAULT_NAME.test(raw) ? { name: raw } : undefined;
    if (!ref) throw new ManagedIdentityError('badInput', 'VaultNameInvalid', raw.slice(0, 200));
    if (!refs.some((r) => r.name.toLowerCase() === ref.name.toLowerCase())) refs.push(ref);
  }
  return refs;
}

export interface AccessPolicyEntry {
  tenantId?: string;
  objectId?: string;
  applicationId?: string;
  permissions?: { keys?: string[]; secrets?: string[]; certificates?: string[]; storage?: string[] };
}

interface PrivateEndpointConnectionItem {
  id?: string;
  properties?: { provisioningState?: string; privateLinkServiceConnectionState?: { status?: string } };
}

export interface ArmVault {
  id: string;
  name: string;
  location?: string;
  properties?: {
    tenantId?: string;
    sku?: { family?: string; name?: string };
    accessPolicies?: AccessPolicyEntry[];
    vaultUri?: string;
    enableSoftDelete?: boolean;
    softDeleteRetentionInDays?: number;
    enableRbacAuthorization?: boolean;
    enablePurgeProtection?: boolean;
    networkAcls?: { defaultAction?: string; bypass?: string; ipRules?: unknown[]; virtualNetworkRules?: unknown[] };
    privateEndpointConnections?: PrivateEndpointConnectionItem[];
    publicNetworkAccess?: string;
  };
}

/** A vault by resource ID, or by name through the list of the subscription's vaults. */
export async function findVault(arm: ArmClient, subscriptionId: string, ref: VaultRef): Promise<ArmVault> {
  if (ref.id) return arm.get<ArmVault>(ref.id, ARM_API_VERSIONS.keyVault);
  const vaults = await arm.list<ArmVault>(`/subscriptions/${subscriptionId}/providers/Microsoft.KeyVault/vaults`, ARM_API_VERSIONS.keyVault);
  const found = vaults.find((v) => typeof v.name === 'string' && v.name.toLowerCase() === ref.name.toLowerCase());
  if (!found) throw new ManagedIdentityError('refused', 'VaultNotFound', ref.name, subscriptionId);
  return found;
}

export interface AccessPolicyPermissions {
  secrets: string[];
  keys: string[];
  certificates: string[];
}

export interface VaultInfo {
  id: string;
  name: string;
  resourceGroup: string;
  location: string;
  /** The data-plane URL, with one trailing slash. */
  vaultUri: string;
  sku: string;
  tenantId: string;
  softDelete: boolean;
  softDeleteRetentionDays: number;
  purgeProtection: boolean;
  authorization: 'rbac' | 'accessPolicies';
  /** In access-policy mode: this identity's permissions (merged over its entries), or null when it has none. */
  accessPolicy?: AccessPolicyPermissions | null;
  accessPolicyCount: number;
  publicNetworkAccess: string;
  networkDefaultAction: string;
  networkBypass: string;
  ipRules: number;
  virtualNetworkRules: number;
  privateEndpoints: Array<{ name: string; status: string; provisioningState: string }>;
}

const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function describeVault(vault: ArmVault, objectId?: string): VaultInfo {
  const p = vault.properties ?? {};
  const rbac = p.enableRbacAuthorization === true;
  const mine = (p.accessPolicies ?? []).filter((e) => objectId && e.objectId?.toLowerCase() === objectId.toLowerCase());
  const merge = (kind: keyof AccessPolicyPermissions) => [...new Set(mine.flatMap((e) => list(e.permissions?.[kind]).map((x) => x.toLowerCase())))];
  const acls = p.networkAcls ?? {};
  return {
    id: vault.id,
    name: vault.name,
    resourceGroup: /\/resourcegroups\/([^/]+)\//i.exec(vault.id)?.[1] ?? '',
    location: vault.location ?? '',
    vaultUri: (p.vaultUri ?? `https://${vault.name}.vault.azure.net`).replace(/\/*$/, '/'),
    sku: p.sku?.name ?? '',
    tenantId: p.tenantId ?? '',
    softDelete: p.enableSoftDelete !== false,
    softDeleteRetentionDays: p.softDeleteRetentionInDays ?? 90,
    purgeProtection: p.enablePurgeProtection === true,
    authorization: rbac ? 'rbac' : 'accessPolicies',
    accessPolicy: rbac ? undefined : mine.length ? { secrets: merge('secrets'), keys: merge('keys'), certificates: merge('certificates') } : null,
    accessPolicyCount: (p.accessPolicies ?? []).length,
    publicNetworkAccess: p.publicNetworkAccess ?? 'Enabled',
    networkDefaultAction: acls.defaultAction ?? 'Allow',
    networkBypass: acls.bypass ?? 'AzureServices',
    ipRules: (acls.ipRules ?? []).length,
    virtualNetworkRules: (acls.virtualNetworkRules ?? []).length,
    privateEndpoints: (p.privateEndpointConnections ?? []).map((c) => ({
      name: c.id?.split('/').pop() ?? '',
      status: c.properties?.privateLinkServiceConnectionState?.status ?? '',
      provisioningState: c.properties?.provisioningState ?? '',
    })),
  };
}

/** In access-policy mode, whether this identity's policy grants a secret permission (get, list, …). */
export function policyAllowsSecret(info: VaultInfo, permission: string): boolean {
  const secrets = info.accessPolicy?.secrets ?? [];
  return secrets.includes(permission.toLowerCase()) || secrets.includes('all');
}

export interface SecretInfo {
  name: string;
  enabled?: boolean;
  contentType?: string;
  created?: string;
  updated?: string;
  expires?: string;
  notBefore?: string;
  /** Set for a certificate's secret. */
  managed?: boolean;
}

interface SecretItem {
  id?: string;
  contentType?: string;
  managed?: boolean;
  attributes?: { enabled?: boolean; created?: number; updated?: number; exp?: number; nbf?: number };
}

export interface Challenge {
  authorization?: string;
  resource?: string;
  scope?: string;
}

/** WWW-Authenticate: Bearer authorization="https://login.windows.net/<tenant>", resource="https://vault.azure.net" */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header || !/^\s*Bearer\b/i.test(header)) return undefined;
  const out: Record<string, string> = {};
  for (const m of header.matchAll(/(\w+)="([^"]*)"/g)) out[m[1].toLowerCase()] = m[2];
  return { authorization: out.authorization ?? out.authorization_uri, resource: out.resource, scope: out.scope };
}

export interface SecretListOptions extends RestOptions {
  /** A token for a resource (the cloud's Key Vault audience, or the one a challenge names). */
  tokenFor: (resource: string) => Promise<string>;
  /** The resource to ask a token for first: the cloud's Key Vault audience. */
  resource: string;
  objectId?: string;
  tenantId?: string;
}

export interface SecretList {
  secrets: SecretInfo[];
  /** The resource the vault accepted tokens for. */
  resource: string;
}

/** GET {vaultUri}secrets?api-version=7.6 and every nextLink: names and attributes, no values. */
export async function listSecretNames(vault: VaultInfo, options: SecretListOptions): Promise<SecretList> {
  const label = `Key Vault ${vault.name}`;
  const first = new URL('secrets', vault.vaultUri);
  first.searchParams.set('api-version', KEY_VAULT_DATA_API_VERSION);
  // The vaultUri comes from Resource Manager: refuse plain http before any token is asked for.
  assertBearerUrl(first.toString());
  let resource = options.resource;
  // A host outside the Key Vault domain (Azure Stack Hub, a private DNS name) gets no token unasked:
  // as the Azure SDKs do, the first request goes without one and its 401 challenge names the resource.
  let token = tokenMayGoTo(vault.vaultUri, resource) ? await options.tokenFor(resource) : undefined;
  let challenged = false;
  const items = await collectPages<SecretItem>(first.toString(), label, options.maxPages ?? 100, async (url) => {
    for (;;) {
      const res = await getWithToken(url, token, label, options);
      if (res.status === 200) return pageOf<SecretItem>(jsonBody(res, label, url));
      if (res.status === 401 && !challenged) {
        challenged = true;
        const asked = challengeResource(vault, res.headers['www-authenticate']);
        if (asked) {
          resource = asked;
          token = await options.tokenFor(resource);
          continue;
        }
      }
      throw keyVaultError(res, vault, { ...options, resource });
    }
  });
  return { resource, secrets: items.map(secretInfo) };
}

/**
 * The resource a 401 challenge asks for, if a token for it may be sent to this vault's host: as the
 * Azure SDKs check, the host must lie under the resource's domain (kv.vault.azure.net under
 * vault.azure.net), so a host cannot obtain a token for another API. The loopback emulator is the exception.
 */
export function challengeResource(vault: Pick<VaultInfo, 'name' | 'vaultUri'>, header: string | undefined): string | undefined {
  const challenge = parseChallenge(header);
  const asked = challenge?.resource ?? challenge?.scope?.replace(/\/\.default$/i, '');
  if (!asked) return undefined;
  let askedUrl: URL | undefined;
  try {
    askedUrl = new URL(asked);
  } catch {
    askedUrl = undefined;
  }
  if (!askedUrl || askedUrl.protocol !== 'https:' || !tokenMayGoTo(vault.vaultUri, asked)) {
    throw new ManagedIdentityError('refused', 'KeyVaultChallengeMismatch', vault.name, asked.slice(0, 200), new URL(vault.vaultUri).hostname.toLowerCase());
  }
  return asked;
}

/** Whether a token for this resource may be sent to this vault: its host lies under the resource's domain, or is loopback (the emulator). */
export function tokenMayGoTo(vaultUri: string, resource: string): boolean {
  const vaultHost = new URL(vaultUri).hostname.toLowerCase();
  if (isLoopbackHost(vaultHost)) return true;
  try {
    return vaultHost.endsWith(`.${new URL(resource).hostname.toLowerCase()}`);
  } catch {
    return false;
  }
}

/** The secret's name: the last segment of its id (https://{vault}/secrets/{name}), decoded; as sent when it does not decode. */
export function secretNameOf(id: string | undefined): string {
  const last = (id ?? '').replace(/\/+$/, '').split('/').pop() ?? '';
  try {
    return decodeURIComponent(last);
  } catch {
    // A malformed escape (a lone '%') must not fail the whole list.
    return last;
  }
}

function secretInfo(item: SecretItem): SecretInfo {
  const a = item.attributes ?? {};
  return {
    name: secretNameOf(item.id),
    enabled: a.enabled,
    contentType: item.contentType || undefined,
    created: isoFromEpochSeconds(a.created),
    updated: isoFromEpochSeconds(a.updated),
    expires: isoFromEpochSeconds(a.exp),
    notBefore: isoFromEpochSeconds(a.nbf),
    managed: item.managed || undefined,
  };
}

/** Key Vault's refusal, with what it means and what to change. */
export function keyVaultError(res: HttpResponse, vault: VaultInfo, context: { objectId?: string; tenantId?: string; resource?: string }): ManagedIdentityError {
  const { code, message, innerCode } = serviceError(res);
  const who = context.objectId ?? 'unknown';
  if (res.status === 403) {
    switch (innerCode) {
      case 'ForbiddenByRbac':
        return new ManagedIdentityError('refused', 'KeyVaultForbiddenByRbac', vault.name, who, who, vault.id);
      case 'AccessDenied':
        return new ManagedIdentityError('refused', 'KeyVaultAccessDenied', vault.name, who, vault.name, who);
      case 'ForbiddenByFirewall':
        return new ManagedIdentityError('refused', 'KeyVaultForbiddenByFirewall', vault.name, /Client address: ?([^\s;]+)/i.exec(message)?.[1] ?? 'unknown');
      case 'ForbiddenByConnection':
        return new ManagedIdentityError('refused', 'KeyVaultForbiddenByConnection', vault.name);
    }
    return new ManagedIdentityError('refused', 'KeyVaultForbidden', vault.name, innerCode ?? code, message);
  }
  const detail = [code, message].filter(Boolean).join(': ') || `HTTP ${res.status}`;
  if (res.status === 401) {
    const challenge = parseChallenge(res.headers['www-authenticate']);
    return new ManagedIdentityError('refused', 'KeyVaultUnauthorized', vault.name, context.resource ?? 'unknown', challenge?.authorization ?? 'unknown', detail, context.tenantId ?? 'unknown');
  }
  return new ManagedIdentityError('refused', 'KeyVaultRefused', vault.name, res.status, detail);
}
