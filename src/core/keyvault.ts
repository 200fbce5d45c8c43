/**
 * Key Vault, read only. The management plane (through ARM, api-version
 * 2024-11-01): the vault's configuration and, in access-policy mode, this
 * identity's policy. The data plane (api-version 7.6): the names and
 * attributes of the secrets, never their values, with Key Vault's 401
 * challenge answered once and its 403 reasons explained.
 */
import { ARM_API_VERSIONS, ArmClient } from './arm';
import { isGuid } from './audience';
import { ManagedIdentityError } from './errors';
import { isoFromEpochSeconds } from './expiry';
import type { HttpResponse } from './http';
import { asBoolean, asList, asNumber, asObject, asString, asStrings } from './json';
import { isResourceGroupName } from './resources';
import { assertBearerUrl, collectPages, getWithToken, jsonBody, pageOf, RestOptions, serviceError } from './rest';
import { isLoopbackHost } from './url';
import { sanitize, withSupport } from './token-response';

export const KEY_VAULT_DATA_API_VERSION = '7.6';

export interface VaultRef {
  name: string;
  /** The full resource ID, when given as one. */
  id?: string;
}

/** 3 to 24 letters, digits and hyphens, starting with a letter, ending with a letter or digit. */
const VAULT_NAME = /^[a-z](?!.*--)[a-z0-9-]{1,22}[a-z0-9]$/i;
const VAULT_ID = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.keyvault\/vaults\/([^/]+)$/i;

/** The vault name of a vault resource ID whose every segment is what it says (a GUID, a group name, a vault name): the ID becomes a Resource Manager URL path. */
function vaultNameOfId(id: string): string | undefined {
  const m = VAULT_ID.exec(id);
  return m && isGuid(m[1]) && isResourceGroupName(m[2]) && VAULT_NAME.test(m[3]) ? m[3] : undefined;
}

/** keyVaultNames: names or resource IDs, comma or newline separated. */
export function parseVaultRefs(input: string): VaultRef[] {
  const refs: VaultRef[] = [];
  for (const raw of input.split(/[,\r\n]+/).map((s) => s.trim()).filter(Boolean)) {
    const id = raw.replace(/\/+$/, '');
    const byId = vaultNameOfId(id);
    const ref = byId ? { name: byId, id } : VAULT_NAME.test(raw) ? { name: raw } : undefined;
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
  const found = vaults.find((v) => asString(asObject(v).name)?.toLowerCase() === ref.name.toLowerCase());
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

/** The vault's configuration, read field by field: a field of another type than documented reads as absent. */
export function describeVault(vault: ArmVault, objectId?: string): VaultInfo {
  const v = asObject(vault);
  const p = asObject(v.properties);
  const id = asString(v.id) ?? '';
  const name = asString(v.name) ?? '';
  const rbac = p.enableRbacAuthorization === true;
  const policies = asList(p.accessPolicies).map(asObject);
  const mine = policies.filter((e) => objectId && asString(e.objectId)?.toLowerCase() === objectId.toLowerCase());
  const merge = (kind: keyof AccessPolicyPermissions) => [...new Set(mine.flatMap((e) => asStrings(asObject(e.permissions)[kind]).map((x) => x.toLowerCase())))];
  const acls = asObject(p.networkAcls);
  return {
    id,
    name,
    resourceGroup: /\/resourcegroups\/([^/]+)\//i.exec(id)?.[1] ?? '',
    location: asString(v.location) ?? '',
    vaultUri: (asString(p.vaultUri) ?? `https://${name}.vault.azure.net`).replace(/\/*$/, '/'),
    sku: asString(asObject(p.sku).name) ?? '',
    tenantId: asString(p.tenantId) ?? '',
    softDelete: p.enableSoftDelete !== false,
    softDeleteRetentionDays: asNumber(p.softDeleteRetentionInDays) ?? 90,
    purgeProtection: p.enablePurgeProtection === true,
    authorization: rbac ? 'rbac' : 'accessPolicies',
    accessPolicy: rbac ? undefined : mine.length ? { secrets: merge('secrets'), keys: merge('keys'), certificates: merge('certificates') } : null,
    accessPolicyCount: policies.length,
    publicNetworkAccess: asString(p.publicNetworkAccess) ?? 'Enabled',
    networkDefaultAction: asString(acls.defaultAction) ?? 'Allow',
    networkBypass: asString(acls.bypass) ?? 'AzureServices',
    ipRules: asList(acls.ipRules).length,
    virtualNetworkRules: asList(acls.virtualNetworkRules).length,
    privateEndpoints: asList(p.privateEndpointConnections).map(asObject).map((c) => {
      const props = asObject(c.properties);
      return {
        name: asString(c.id)?.split('/').pop() ?? '',
        status: asString(asObject(props.privateLinkServiceConnectionState).status) ?? '',
        provisioningState: asString(props.provisioningState) ?? '',
      };
    }),
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

export interface Challenge {
  authorization?: string;
  resource?: string;
  scope?: string;
}

/** WWW-Authenticate: Bearer authorization="https://login.windows.net/<tenant>", resource="https://vault.azure.net" */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header || !/^\s*Bearer\b/i.test(header)) return undefined;
  const out: Record<string, string> = {};
  // A parameter starts after a space or comma: a plain (\w+)=" would rescan long runs of letters from each one (quadratic).
  for (const m of header.matchAll(/(?:^|[\s,])(\w+)="([^"]*)"/g)) out[m[1].toLowerCase()] = m[2];
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
  // The vaultUri comes from Resource Manager: refuse plain http (or no URL at all) before any token is asked for.
  const first = new URL('secrets', assertBearerUrl(vault.vaultUri));
  first.searchParams.set('api-version', KEY_VAULT_DATA_API_VERSION);
  let resource = options.resource;
  // A host outside the Key Vault domain (Azure Stack Hub, a private DNS name) gets no token unasked:
  // as the Azure SDKs do, the first request goes without one and its 401 challenge names the resource.
  let token = tokenMayGoTo(vault.vaultUri, resource) ? await options.tokenFor(resource) : undefined;
  let challenged = false;
  const items = await collectPages<unknown>(first.toString(), label, options.maxPages ?? 100, async (url) => {
    for (;;) {
      const res = await getWithToken(url, token, label, options);
      if (res.status === 200) return pageOf<unknown>(jsonBody(res, label, url));
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
    throw new ManagedIdentityError('refused', 'KeyVaultChallengeMismatch', vault.name, sanitize(asked).slice(0, 200), new URL(vault.vaultUri).hostname.toLowerCase());
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

/** One item of a secret list ({id, contentType, managed, attributes: {enabled, created, updated, exp, nbf}}): its name and attributes, each of its documented type or left out. */
export function secretInfo(item: unknown): SecretInfo {
  const i = asObject(item);
  const a = asObject(i.attributes);
  return {
    name: secretNameOf(asString(i.id)),
    enabled: asBoolean(a.enabled),
    contentType: asString(i.contentType) || undefined,
    created: isoFromEpochSeconds(a.created),
    updated: isoFromEpochSeconds(a.updated),
    expires: isoFromEpochSeconds(a.exp),
    notBefore: isoFromEpochSeconds(a.nbf),
    managed: i.managed === true || undefined,
  };
}

type VaultContext = { objectId?: string; tenantId?: string; resource?: string };

/** Key Vault's refusal, with what it means and what to change, and its request ID for a support case. */
export function keyVaultError(res: HttpResponse, vault: VaultInfo, context: VaultContext): ManagedIdentityError {
  return withSupport(keyVaultAdvice(res, vault, context), res);
}

function keyVaultAdvice(res: HttpResponse, vault: VaultInfo, context: VaultContext): ManagedIdentityError {
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
    const authority = challenge?.authorization ? sanitize(challenge.authorization).slice(0, 200) : 'unknown';
    return new ManagedIdentityError('refused', 'KeyVaultUnauthorized', vault.name, context.resource ?? 'unknown', authority, detail, context.tenantId ?? 'unknown');
  }
  return new ManagedIdentityError('refused', 'KeyVaultRefused', vault.name, res.status, detail);
}
