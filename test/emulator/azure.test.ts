/** The emulator's Resource Manager, Key Vault and instance metadata speak as the services document it. */
import { strict as assert } from 'node:assert';
import { AzureEmulator, imdsEnv, ROLES, worldOf } from '../../emulator';
import { acquireToken } from '../../src/core/acquire';
import { parseAudience } from '../../src/core/audience';
import { useEmulator } from '../helpers/emulator';

describe('the emulator as Azure', () => {
  let emu: AzureEmulator;
  let arm: string;
  let vault: string;
  const get = async (url: string, token?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { headers: { ...headers, ...(token ? { Authorization: `Bearer ${token}` } : {}) } });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };
  useEmulator({}, async (e) => {
    emu = e;
    arm = (await acquireToken({ audience: parseAudience('https://management.azure.com/'), env: imdsEnv(emu) })).token;
    vault = (await acquireToken({ audience: parseAudience('https://vault.azure.net'), env: imdsEnv(emu) })).token;
  }, { once: true });

  it('Resource Manager wants an api-version and a bearer token, and says so as ARM does', async () => {
    const group = `${emu.url}/subscriptions/${emu.machine.subscriptionId}/resourceGroups/${emu.machine.resourceGroup}`;
    const noVersion = await get(group, arm);
    assert.equal(noVersion.status, 400);
    assert.equal((noVersion.body.error as { code: string }).code, 'MissingApiVersionParameter');
    const noToken = await get(`${group}?api-version=2021-04-01`);
    assert.equal(noToken.status, 401);
    assert.match(noToken.headers.get('www-authenticate') ?? '', /^Bearer authorization_uri="https:\/\/login\.windows\.net\/", error="invalid_token"/);
    const wrongAudience = await get(`${group}?api-version=2021-04-01`, vault);
    assert.equal((wrongAudience.body.error as { code: string }).code, 'InvalidAuthenticationTokenAudience');
    const ok = await get(`${group}?api-version=2021-04-01`, arm);
    assert.deepEqual(ok.body, { id: group.replace(emu.url, ''), name: emu.machine.resourceGroup, type: 'Microsoft.Resources/resourceGroups', location: 'westeurope', properties: { provisioningState: 'Succeeded' } });
  });

  it('gives vaultUri without a slash from GET and with one from the list, as the specification examples do', async () => {
    const sub = `${emu.url}/subscriptions/${emu.machine.subscriptionId}`;
    const one = await get(`${sub}/resourceGroups/${emu.machine.resourceGroup}/providers/Microsoft.KeyVault/vaults/kv-agents?api-version=2024-11-01`, arm);
    assert.equal((one.body.properties as { vaultUri: string }).vaultUri, `${emu.url}/keyvault/kv-agents`);
    const list = await get(`${sub}/providers/Microsoft.KeyVault/vaults?api-version=2024-11-01`, arm);
    const uris = (list.body.value as Array<{ properties: { vaultUri: string } }>).map((v) => v.properties.vaultUri);
    assert.deepEqual(uris, [`${emu.url}/keyvault/kv-agents/`, `${emu.url}/keyvault/kv-legacy/`]);
  });

  it('Key Vault challenges a request without a token exactly as Key Vault does', async () => {
    const res = await get(`${emu.url}/keyvault/kv-agents/secrets?api-version=7.6`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Bearer authorization="https://login.windows.net/${emu.machine.tenantId}", resource="https://vault.azure.net"`);
    assert.deepEqual(res.body, { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } });
  });

  it('Key Vault pages secrets with maxresults, $skiptoken and nextLink, null on the last page', async () => {
    const paged = worldOf(emu).addVault({ name: 'kv-paged', secrets: 30 });
    worldOf(emu).assign(emu.machine.systemAssigned!.objectId, ROLES.KeyVaultReader, paged.id);
    const first = await get(`${emu.url}/keyvault/kv-paged/secrets?api-version=7.6`, vault);
    assert.equal((first.body.value as unknown[]).length, 25);
    const next = new URL(first.body.nextLink as string);
    assert.deepEqual([...next.searchParams.keys()], ['api-version', '$skiptoken', 'maxresults']);
    const last = await get(next.toString(), vault);
    assert.equal((last.body.value as unknown[]).length, 5);
    assert.equal(last.body.nextLink, null);
    const item = (first.body.value as Array<Record<string, unknown>>)[0];
    assert.equal(item.id, `${emu.url}/keyvault/kv-paged/secrets/secret-0001`);
    assert.ok(!('value' in item));
    assert.equal((await get(`${emu.url}/keyvault/kv-paged/secrets?api-version=7.6&maxresults=26`, vault)).status, 400);
  });

  it('the instance metadata: string leaves, tagsList, and IMDS’s refusals', async () => {
    const ok = await get(`${emu.url}/metadata/instance?api-version=2021-02-01`, undefined, { Metadata: 'true' });
    const compute = ok.body.compute as Record<string, unknown>;
    assert.equal(compute.tags, 'role:build-agent;team:platform');
    assert.deepEqual(compute.tagsList, [{ name: 'role', value: 'build-agent' }, { name: 'team', value: 'platform' }]);
    const leaves = (v: unknown): unknown[] => (v && typeof v === 'object' ? Object.values(v).flatMap(leaves) : [v]);
    assert.ok(leaves(ok.body).every((v) => typeof v === 'string'));
    const noHeader = await get(`${emu.url}/metadata/instance?api-version=2021-02-01`);
    assert.equal(noHeader.status, 400);
    const noVersion = await get(`${emu.url}/metadata/instance`, undefined, { Metadata: 'true' });
    assert.ok(Array.isArray(noVersion.body['newest-versions']));
  });
});
