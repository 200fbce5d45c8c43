/**
 * The Key Vault data plane for secrets, as Key Vault answers (api-version
 * 7.0 to 7.6): GET {vaultUri}/secrets lists names and attributes in pages of
 * at most 25 (maxresults) with $skiptoken and nextLink; GET
 * {vaultUri}/secrets/{name} gives a value (the task must never call it).
 * Each vault lives under {origin}/keyvault/{name}/.
 *
 * A request without an acceptable token gets 401 and the challenge
 *   WWW-Authenticate: Bearer authorization="https://login.windows.net/<tenant>", resource="<audience>"
 * A caller the vault refuses gets 403 with error.innererror.code
 * ForbiddenByConnection (public access disabled), ForbiddenByFirewall (the
 * default action is Deny and 127.0.0.1 is not in the IP rules),
 * ForbiddenByRbac or AccessDenied (access policies).
 */
import { randomUUID } from 'node:crypto';
import { originOf } from './arm';
import { bearerToken } from './bearer';
import type { Reply, RequestContext } from './server';
import { AzureEmulator } from './server';
import { WorldVault, worldOf } from './world';

export const KEYVAULT_ROUTES = { secrets: 'keyvault.secrets', secret: 'keyvault.secret' } as const;

const VERSIONS = new Set(['7.0', '7.1', '7.2', '7.3', '7.4', '7.5', '7.6']);

/** A Key Vault error, with the request ID Key Vault sends with every answer. */
function kvError(status: number, code: string, message: string, inner?: string, headers?: Record<string, string>): Reply {
  return { status, headers: { 'x-ms-request-id': randomUUID(), ...headers }, body: { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } } };
}

const sameAudience = (a: string, b: string) => a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();

/** The checks every data-plane request goes through; the caller's claims when it passes. */
function admit(emu: AzureEmulator, ctx: RequestContext, vault: WorldVault, action: string, policy: string): Reply | undefined {
  const version = ctx.url.searchParams.get('api-version');
  if (!version) return kvError(400, 'BadParameter', 'api-version query parameter is missing');
  if (!VERSIONS.has(version)) return kvError(400, 'BadParameter', `The specified version (${version}) is not recognized. Consider using the latest supported version (7.6).`);

  const challenge = { 'WWW-Authenticate': `Bearer authorization="https://login.windows.net/${vault.tenantId}", resource="${vault.audience}"` };
  const { present, minted } = bearerToken(emu, ctx);
  if (!present) return kvError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.', undefined, challenge);
  if (!minted) return kvError(401, 'Unauthorized', 'AKV10013: Invalid token.', undefined, challenge);
  const c = minted.claims;
  if (!sameAudience(String(c.aud), vault.audience)) {
    return kvError(401, 'Unauthorized', `AKV10022: Invalid audience. Expected ${vault.audience}, found: ${String(c.aud)}.`, undefined, challenge);
  }
  if (String(c.tid).toLowerCase() !== vault.tenantId.toLowerCase()) {
    return kvError(401, 'Unauthorized', `AKV10032: Invalid issuer. Expected one of https://sts.windows.net/${vault.tenantId}/, found https://sts.windows.net/${String(c.tid)}/.`, undefined, challenge);
  }
  const caller = `appid=${String(c.appid ?? c.azp)};oid=${String(c.oid)};iss=${String(c.iss)}`;
  const where = `Vault: ${vault.name};location=${vault.location}`;
  if (vault.publicNetworkAccess === 'Disabled') {
    return kvError(403, 'Forbidden', `Public network access is disabled and request is not from a trusted service nor via an approved private link.\r\nCaller: ${caller}\r\n${where}`, 'ForbiddenByConnection');
  }
  if (vault.defaultAction === 'Deny' && !vault.ipRules.some((r) => r.replace(/\/32$/, '') === '127.0.0.1')) {
    return kvError(403, 'Forbidden', `Client address is not authorized and caller is not a trusted service.\r\nClient address: 127.0.0.1\r\nCaller: ${caller}\r\n${where}`, 'ForbiddenByFirewall');
  }
  const oid = String(c.oid);
  const world = worldOf(emu);
  if (vault.rbac) {
    if (world.allows(oid, action, vault.id, true)) return undefined;
    return kvError(
      403,
      'Forbidden',
      `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: ${caller}\r\nAction: '${action}'\r\nResource: '${vault.id.toLowerCase()}/secrets'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\n${where}\r\n`,
      'ForbiddenByRbac',
    );
  }
  const granted = vault.accessPolicies.filter((p) => p.objectId.toLowerCase() === oid.toLowerCase()).flatMap((p) => (p.secrets ?? []).map((s) => s.toLowerCase()));
  if (granted.includes(policy) || granted.includes('all')) return undefined;
  return kvError(
    403,
    'Forbidden',
    `The user, group or application '${caller}' does not have secrets ${policy} permission on key vault '${vault.name};location=${vault.location}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287`,
    'AccessDenied',
  );
}

function vaultOf(emu: AzureEmulator, name: string): WorldVault | undefined {
  return worldOf(emu).vault(name);
}

const noVault = (name: string) => kvError(404, 'VaultNotFound', `The vault ${name} was not found.`);

export function registerKeyVault(emu: AzureEmulator): void {
  emu.route(KEYVAULT_ROUTES.secrets, 'GET', /^\/keyvault\/[^/]+\/secrets\/?$/, (ctx) => {
    const name = ctx.url.pathname.split('/')[2];
    const vault = vaultOf(emu, name);
    if (!vault) return noVault(name);
    const refused = admit(emu, ctx, vault, 'Microsoft.KeyVault/vaults/secrets/readMetadata/action', 'list');
    if (refused) return refused;
    const q = ctx.url.searchParams;
    const max = Number(q.get('maxresults') ?? worldOf(emu).secretPageSize);
    if (!Number.isInteger(max) || max < 1 || max > 25) return kvError(400, 'BadParameter', 'The value of maxresults must be between 1 and 25.');
    const offset = Number(Buffer.from(q.get('$skiptoken') ?? '', 'base64url').toString('utf8')) || 0;
    const base = `${originOf(ctx)}/keyvault/${vault.name}`;
    const value = vault.secrets.slice(offset, offset + max).map((s) => ({
      id: `${base}/secrets/${s.name}`,
      attributes: { enabled: s.enabled, created: s.created, updated: s.updated, ...(s.exp ? { exp: s.exp } : {}), recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 },
      ...(s.contentType ? { contentType: s.contentType } : {}),
      tags: {},
    }));
    let nextLink: string | null = null;
    if (offset + max < vault.secrets.length) {
      const next = new URL(`${base}/secrets`);
      next.searchParams.set('api-version', q.get('api-version') ?? '7.6');
      next.searchParams.set('$skiptoken', Buffer.from(String(offset + max)).toString('base64url'));
      next.searchParams.set('maxresults', String(max));
      nextLink = next.toString();
    }
    return { status: 200, headers: { 'x-ms-keyvault-region': vault.location, 'x-ms-keyvault-service-version': '1.9.1436.1' }, body: { value, nextLink } };
  });

  emu.route(KEYVAULT_ROUTES.secret, 'GET', /^\/keyvault\/[^/]+\/secrets\/[^/]+(\/[^/]*)?$/, (ctx) => {
    const [, , name, , secretName] = ctx.url.pathname.split('/');
    const vault = vaultOf(emu, name);
    if (!vault) return noVault(name);
    const refused = admit(emu, ctx, vault, 'Microsoft.KeyVault/vaults/secrets/getSecret/action', 'get');
    if (refused) return refused;
    const secret = vault.secrets.find((s) => s.name === decodeURIComponent(secretName));
    if (!secret) return kvError(404, 'SecretNotFound', `A secret with (name/id) ${secretName} was not found in this key vault.`);
    return { status: 200, body: { value: secret.value, id: `${originOf(ctx)}/keyvault/${vault.name}/secrets/${secret.name}/0123456789abcdef`, attributes: { enabled: secret.enabled, created: secret.created, updated: secret.updated } } };
  });
}
