/**
 * Azure Resource Manager, read only, as documented in the REST API
 * specifications: subscriptions (2022-12-01), resource groups and their
 * resources (2021-04-01, paged with $skiptoken and nextLink), Key Vault vaults
 * (get, list by subscription; 2024-11-01) and the caller's permissions
 * (2022-04-01). Requests need a bearer token this emulator minted, for an ARM
 * audience, unexpired, from its tenant; what the caller may see follows the
 * role assignments in the world. Errors are {error:{code,message}} with ARM's
 * codes and wording.
 */
import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { bearerToken } from './bearer';
import type { Reply, RequestContext } from './server';
import { AzureEmulator } from './server';
import { AzureWorld, WorldVault, worldOf } from './world';

/** ARM_ROUTES.subscriptions is what az login lists. */
export const ARM_ROUTES = {
  subscriptions: 'arm.subscriptions',
  subscription: 'arm.subscription',
  resourceGroup: 'arm.resourceGroup',
  resources: 'arm.resources',
  vault: 'arm.vault',
  vaults: 'arm.vaults',
  permissions: 'arm.permissions',
  virtualMachine: 'arm.virtualMachine',
  scaleSet: 'arm.scaleSet',
} as const;

/** The audiences Resource Manager accepts (with and without the trailing slash). */
const ARM_AUDIENCES = new Set(
  ['https://management.azure.com', 'https://management.core.windows.net', 'https://management.usgovcloudapi.net', 'https://management.chinacloudapi.cn'].flatMap((a) => [a, `${a}/`]),
);

const SUB = '/subscriptions/([^/]+)';
const RG = `${SUB}/resourcegroups/([^/]+)`;
const PATHS = {
  subscriptions: /^\/subscriptions\/?$/i,
  subscription: new RegExp(`^${SUB}/?$`, 'i'),
  resourceGroup: new RegExp(`^${RG}/?$`, 'i'),
  resources: new RegExp(`^${RG}/resources/?$`, 'i'),
  vault: new RegExp(`^${RG}/providers/microsoft\\.keyvault/vaults/([^/]+)/?$`, 'i'),
  vaults: new RegExp(`^${SUB}/providers/microsoft\\.keyvault/vaults/?$`, 'i'),
  permissions: new RegExp(`^(${RG}(?:/providers/.+?)?)/providers/microsoft\\.authorization/permissions/?$`, 'i'),
  virtualMachine: new RegExp(`^${RG}/providers/microsoft\\.compute/virtualmachines/([^/]+)/?$`, 'i'),
  scaleSet: new RegExp(`^${RG}/providers/microsoft\\.compute/virtualmachinescalesets/([^/]+)/?$`, 'i'),
};

const API_VERSIONS: Record<keyof typeof PATHS, string[]> = {
  subscriptions: ['2016-06-01', '2019-06-01', '2019-11-01', '2020-01-01', '2021-01-01', '2022-12-01'],
  subscription: ['2016-06-01', '2020-01-01', '2021-01-01', '2022-12-01'],
  resourceGroup: ['2019-10-01', '2020-06-01', '2021-04-01', '2022-09-01'],
  resources: ['2019-10-01', '2020-06-01', '2021-04-01', '2022-09-01'],
  vault: ['2022-07-01', '2023-02-01', '2023-07-01', '2024-11-01'],
  vaults: ['2022-07-01', '2023-02-01', '2023-07-01', '2024-11-01'],
  permissions: ['2015-07-01', '2018-01-01-preview', '2022-04-01'],
  virtualMachine: ['2023-03-01', '2023-09-01', '2024-03-01', '2024-07-01', '2024-11-01'],
  scaleSet: ['2023-03-01', '2023-09-01', '2024-03-01', '2024-07-01', '2024-11-01'],
};

/** A Resource Manager error, with the request IDs Resource Manager sends with every answer (the same GUID when the client sent no correlation ID). */
export function armError(status: number, code: string, message: string, headers?: Record<string, string>): Reply {
  const id = randomUUID();
  return { status, headers: { 'x-ms-request-id': id, 'x-ms-correlation-request-id': id, ...headers }, body: { error: { code, message } } };
}

/** http(s)://host:port as the client addressed this emulator. */
export function originOf(ctx: RequestContext): string {
  const secure = (ctx.req.socket as TLSSocket).encrypted === true;
  return `${secure ? 'https' : 'http'}://${ctx.header('host') ?? '127.0.0.1'}`;
}


function unauthorized(code: string, message: string): Reply {
  return armError(401, code, message, {
    'WWW-Authenticate': `Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="${message.replace(/"/g, "'")}"`,
  });
}

/** ARM's checks of the bearer token; the caller's object ID when it passes. */
function authenticate(emu: AzureEmulator, ctx: RequestContext): { principal: string } | { reply: Reply } {
  const { present, minted } = bearerToken(emu, ctx);
  if (!present) return { reply: unauthorized('AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.") };
  if (!minted) return { reply: unauthorized('InvalidAuthenticationToken', 'The access token is invalid.') };
  const c = minted.claims;
  if (!ARM_AUDIENCES.has(String(c.aud))) {
    return {
      reply: unauthorized(
        'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for wrong audience or resource '${String(c.aud)}'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.`,
      ),
    };
  }
  const now = Math.floor(Date.now() / 1000);
  if (typeof c.exp === 'number' && c.exp < now) {
    const utc = (s: number) => new Date(s * 1000).toUTCString();
    return { reply: unauthorized('ExpiredAuthenticationToken', `The access token expiry UTC time '${utc(c.exp)}' is earlier than current UTC time '${utc(now)}'.`) };
  }
  if (c.tid !== emu.machine.tenantId) {
    return {
      reply: unauthorized(
        'InvalidAuthenticationTokenTenant',
        `The access token is from the wrong issuer '${String(c.iss)}'. It must match the tenant 'https://sts.windows.net/${emu.machine.tenantId}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/${emu.machine.tenantId}' to get the token.`,
      ),
    };
  }
  return { principal: String(c.oid) };
}

function authorizationFailed(principal: string, action: string, scope: string): Reply {
  return armError(
    403,
    'AuthorizationFailed',
    `The client '${principal}' with object id '${principal}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
  );
}

const subscriptionNotFound = (id: string) => armError(404, 'SubscriptionNotFound', `The subscription '${id}' could not be found.`);
const groupNotFound = (name: string) => armError(404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`);

interface Call {
  world: AzureWorld;
  principal: string;
  groups: string[];
  ctx: RequestContext;
}

/** Registers a route: api-version, token and subscription checks first, then the handler. */
function armRoute(emu: AzureEmulator, name: keyof typeof PATHS, handler: (call: Call) => Reply): void {
  emu.route(ARM_ROUTES[name], 'GET', PATHS[name], (ctx) => {
    const version = ctx.url.searchParams.get('api-version');
    if (!version) return armError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
    if (!API_VERSIONS[name].includes(version)) {
      return armError(400, 'InvalidApiVersionParameter', `The api-version '${version}' is invalid. The supported versions are '${API_VERSIONS[name].join(',')}'.`);
    }
    const auth = authenticate(emu, ctx);
    if ('reply' in auth) return auth.reply;
    const groups = (ctx.match ?? []).slice(1);
    const world = worldOf(emu);
    if (name !== 'subscriptions') {
      const subscription = name === 'permissions' ? /^\/subscriptions\/([^/]+)/i.exec(groups[0])?.[1] : groups[0];
      if (subscription?.toLowerCase() !== emu.machine.subscriptionId.toLowerCase()) return subscriptionNotFound(subscription ?? '');
    }
    return handler({ world, principal: auth.principal, groups, ctx });
  });
}

/** ARM pages: $top items from the $skiptoken offset, and a nextLink while more remain. */
function page<T>(ctx: RequestContext, items: T[], pageSize: number): { value: T[]; nextLink?: string } {
  const q = ctx.url.searchParams;
  const top = Math.min(pageSize, Number(q.get('$top')) || pageSize);
  const offset = Number(Buffer.from(q.get('$skiptoken') ?? '', 'base64url').toString('utf8')) || 0;
  const value = items.slice(offset, offset + top);
  if (offset + top >= items.length) return { value };
  const next = new URL(ctx.url.pathname + ctx.url.search, originOf(ctx));
  next.searchParams.set('$skiptoken', Buffer.from(String(offset + top)).toString('base64url'));
  return { value, nextLink: next.toString() };
}

const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function vaultJson(vault: WorldVault, origin: string, trailingSlash: boolean): Record<string, unknown> {
  return {
    id: vault.id,
    name: vault.name,
    type: 'Microsoft.KeyVault/vaults',
    location: vault.location,
    tags: {},
    systemData: { createdBy: 'platform@contoso.com', createdByType: 'User', createdAt: '2024-01-15T09:30:00.0000000Z' },
    properties: {
      sku: { family: 'A', name: 'standard' },
      tenantId: vault.tenantId,
      accessPolicies: vault.accessPolicies.map((p) => ({
        tenantId: vault.tenantId,
        objectId: p.objectId,
        permissions: { keys: p.keys ?? [], secrets: p.secrets ?? [], certificates: p.certificates ?? [] },
      })),
      enabledForDeployment: false,
      enabledForDiskEncryption: false,
      enabledForTemplateDeployment: false,
      enableSoftDelete: true,
      softDeleteRetentionInDays: vault.softDeleteRetentionInDays,
      enableRbacAuthorization: vault.rbac,
      ...(vault.purgeProtection ? { enablePurgeProtection: true } : {}),
      networkAcls: {
        bypass: 'AzureServices',
        defaultAction: vault.defaultAction,
        ipRules: vault.ipRules.map((value) => ({ value })),
        virtualNetworkRules: vault.virtualNetworkRules.map((id) => ({ id, ignoreMissingVnetServiceEndpoint: false })),
      },
      privateEndpointConnections: vault.privateEndpoints.map((pe) => ({
        id: `${vault.id}/privateEndpointConnections/${pe.name}`,
        properties: {
          provisioningState: 'Succeeded',
          privateEndpoint: { id: `${vault.id.replace(/\/providers\/.*$/, '')}/providers/Microsoft.Network/privateEndpoints/${pe.name}` },
          privateLinkServiceConnectionState: { status: pe.status, description: '', actionsRequired: 'None' },
        },
      })),
      vaultUri: `${origin}/keyvault/${vault.name}${trailingSlash ? '/' : ''}`,
      provisioningState: 'Succeeded',
      publicNetworkAccess: vault.publicNetworkAccess,
    },
  };
}

/** A VM's identity block, as Resource Manager returns it. */
export function identityBlock(emu: AzureEmulator): Record<string, unknown> {
  const m = emu.machine;
  const user = m.userAssigned.length > 0;
  const type = m.systemAssigned ? (user ? 'SystemAssigned, UserAssigned' : 'SystemAssigned') : user ? 'UserAssigned' : 'None';
  return {
    type,
    ...(m.systemAssigned ? { principalId: m.systemAssigned.objectId, tenantId: m.tenantId } : {}),
    ...(user
      ? { userAssignedIdentities: Object.fromEntries(m.userAssigned.map((u) => [u.resourceId.replace('/resourcegroups/', '/resourceGroups/'), { principalId: u.objectId, clientId: u.clientId }])) }
      : {}),
  };
}

export function registerArm(emu: AzureEmulator): void {
  const m = emu.machine;
  const scope = `/subscriptions/${m.subscriptionId}`;
  // Anyone with a role anywhere in the subscription may read it, and sees it in the list.
  const member = (world: AzureWorld, principal: string) =>
    world.roleAssignments.some((a) => eq(a.principalId, principal) && `${a.scope}/`.toLowerCase().startsWith(`${scope}/`.toLowerCase()));
  const subscriptionJson = (world: AzureWorld) => ({
    id: scope,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    subscriptionId: m.subscriptionId,
    tenantId: m.tenantId,
    displayName: world.subscriptionName,
    state: 'Enabled',
    subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' },
  });

  // The list az login reads: the subscriptions the caller has a role in.
  armRoute(emu, 'subscriptions', ({ world, principal }) => {
    const value = member(world, principal) ? [subscriptionJson(world)] : [];
    return { status: 200, body: { value, count: { type: 'Total', value: value.length } } };
  });

  armRoute(emu, 'subscription', ({ world, principal }) => {
    if (!member(world, principal)) return authorizationFailed(principal, 'Microsoft.Resources/subscriptions/read', scope);
    return { status: 200, body: subscriptionJson(world) };
  });


  /** The group, when the caller may read it; else ARM's answer. */
  const group = (world: AzureWorld, principal: string, name: string, action: string) => {
    const scope = world.groupId(name);
    const found = world.resourceGroups.find((g) => eq(g.name, name));
    if (!world.allows(principal, action, scope)) return { reply: authorizationFailed(principal, action, scope) };
    if (!found) return { reply: groupNotFound(name) };
    return { group: found, scope };
  };

  armRoute(emu, 'resourceGroup', ({ world, principal, groups }) => {
    const g = group(world, principal, groups[1], 'Microsoft.Resources/subscriptions/resourceGroups/read');
    if ('reply' in g) return g.reply!;
    return { status: 200, body: { id: g.scope, name: g.group.name, type: 'Microsoft.Resources/resourceGroups', location: g.group.location, properties: { provisioningState: 'Succeeded' } } };
  });

  armRoute(emu, 'resources', ({ world, principal, groups, ctx }) => {
    const g = group(world, principal, groups[1], 'Microsoft.Resources/subscriptions/resourceGroups/resources/read');
    if ('reply' in g) return g.reply!;
    const prefix = `${g.scope.toLowerCase()}/`;
    const items = world.resources.filter((r) => r.id.toLowerCase().startsWith(prefix)).map(({ id, name, type, location, tags }) => ({ id, name, type, location, ...(tags ? { tags } : {}) }));
    return { status: 200, body: page(ctx, items, world.resourcePageSize) };
  });

  armRoute(emu, 'vault', ({ world, principal, groups, ctx }) => {
    const [, rg, name] = groups;
    const vault = world.vaults.find((v) => eq(v.name, name) && eq(v.resourceGroup, rg));
    const scope = vault?.id ?? `${world.groupId(rg)}/providers/Microsoft.KeyVault/vaults/${name}`;
    if (!world.allows(principal, 'Microsoft.KeyVault/vaults/read', scope)) return authorizationFailed(principal, 'Microsoft.KeyVault/vaults/read', scope);
    if (!world.resourceGroups.some((g) => eq(g.name, rg))) return groupNotFound(rg);
    if (!vault) {
      return armError(404, 'ResourceNotFound', `The Resource 'Microsoft.KeyVault/vaults/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
    }
    return { status: 200, body: vaultJson(vault, originOf(ctx), false) };
  });

  armRoute(emu, 'vaults', ({ world, principal, ctx }) => {
    const visible = world.vaults.filter((v) => world.allows(principal, 'Microsoft.KeyVault/vaults/read', v.id));
    const { value, nextLink } = page(ctx, visible, world.resourcePageSize);
    return { status: 200, body: { value: value.map((v) => vaultJson(v, originOf(ctx), true)), ...(nextLink ? { nextLink } : {}) } };
  });

  // The VM (or its scale set) with its identity block: what ManagedIdentityInfo@1's Identities section reads.
  for (const kind of ['virtualMachine', 'scaleSet'] as const) {
    armRoute(emu, kind, ({ world, principal, groups }) => {
      const [, rg, name] = groups;
      const type = kind === 'virtualMachine' ? 'Microsoft.Compute/virtualMachines' : 'Microsoft.Compute/virtualMachineScaleSets';
      const id = `${world.groupId(rg)}/providers/${type}/${name}`;
      if (!world.allows(principal, `${type}/read`, id)) return authorizationFailed(principal, `${type}/read`, id);
      const holder = kind === 'virtualMachine' ? m.vmName : world.vm.scaleSet;
      const exists = !!holder && eq(rg, m.resourceGroup) && eq(name, holder);
      if (!exists) return armError(404, 'ResourceNotFound', `The Resource '${type}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
      return { status: 200, body: { id, name, type, location: world.location, identity: identityBlock(emu), properties: { provisioningState: 'Succeeded' } } };
    });
  }

  armRoute(emu, 'permissions', ({ world, principal, groups }) => {
    const [scope, , rg] = groups;
    if (!world.resourceGroups.some((g) => eq(g.name, rg))) return groupNotFound(rg);
    const value = world.assignmentsAt(principal, scope).map((a) => ({
      actions: a.role.actions,
      notActions: a.role.notActions,
      dataActions: a.role.dataActions,
      notDataActions: a.role.notDataActions,
      ...(a.condition ? { condition: a.condition, conditionVersion: '2.0' } : {}),
    }));
    return { status: 200, body: { value } };
  });
}

export const ARM_SUBSCRIPTIONS_ROUTE = ARM_ROUTES.subscriptions;
