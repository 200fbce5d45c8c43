/** What the Info task finds, section by section, against the emulator: defaults, failures kept per section, notes. */
import { strict as assert } from 'node:assert';
import { ARM_ROUTES, AzureEmulator, IMDS_INSTANCE_ROUTE, IMDS_TOKEN_ROUTE, imdsEnv, KEYVAULT_ROUTES, worldOf } from '../../emulator';
import { CLOUDS, customCloud } from '../../src/core/clouds';
import { ManagedIdentityError } from '../../src/core/errors';
import { gatherInfo, InfoOptions, parseSections, vaultAccess } from '../../src/core/info';
import { closeNetworkDispatchers } from '../../src/core/network';
import { parseResourceGroup, parseSubscriptionId } from '../../src/core/resources';
import { emulatorCloud } from '../helpers/info';
import { useEmulator } from '../helpers/emulator';

describe('gatherInfo', () => {
  let emu: AzureEmulator;
  let options: (extra?: Partial<InfoOptions>) => InfoOptions;
  useEmulator({ userAssigned: ['id-norole'] }, (e) => {
    emu = e;
    const env = imdsEnv(emu);
    options = (extra = {}) => ({ token: { env }, env, cloud: emulatorCloud(emu), rest: { retryPolicy: { baseDelayMs: 10 } }, ...extra });
  });
  afterEach(() => closeNetworkDispatchers());

  it('shows every section that applies, in the VM’s own subscription and group', async () => {
    worldOf(emu).addResources(7);
    const report = await gatherInfo(options({ keyVaults: [{ name: 'kv-agents' }, { name: 'kv-legacy' }], listSecretNames: true }));
    const m = emu.machine;
    assert.deepEqual(report.sections, ['identity', 'instance', 'identities', 'keyVault', 'resources', 'permissions']);
    assert.deepEqual(report.scope, { subscriptionId: m.subscriptionId, resourceGroup: m.resourceGroup, from: 'instance' });
    assert.ok(report.identity?.ok && report.identity.value.objectId === m.systemAssigned!.objectId);
    assert.ok(report.identity.value.audience === 'https://management.azure.com/' && report.identity.value.resourceId === m.vmResourceId);
    assert.ok(report.instance?.ok && report.instance.value.name === m.vmName);
    assert.ok(report.resources?.ok);
    assert.equal(report.resources.value.resources.length, worldOf(emu).resources.length);
    assert.equal(report.resources.value.subscription?.displayName, 'Build agents');
    assert.ok(report.permissions?.ok && report.permissions.value.readResourceGroup === 'yes');
    const [agents, legacy] = report.keyVaults ?? [];
    assert.deepEqual(vaultAccess(agents), { listSecrets: 'yes', listBasis: 'listed', readSecrets: 'yes', readBasis: 'rbac' });
    assert.deepEqual(vaultAccess(legacy), { listSecrets: 'yes', listBasis: 'listed', readSecrets: 'yes', readBasis: 'accessPolicy' });
    assert.deepEqual(report.notes, []);
    assert.equal(emu.received(IMDS_INSTANCE_ROUTE).length, 1);
    assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 2, 'one ARM token, one Key Vault token');
  });

  it('asks only for what the named sections need', async () => {
    const m = emu.machine;
    const report = await gatherInfo(options({ sections: ['identity'] }));
    assert.deepEqual(report.sections, ['identity']);
    assert.deepEqual(emu.requests.map((r) => r.route), [IMDS_TOKEN_ROUTE]);
    emu.requests.length = 0;
    await gatherInfo(options({ sections: ['resources'], subscriptionId: m.subscriptionId, resourceGroup: m.resourceGroup }));
    assert.ok(!emu.requests.some((r) => r.route === IMDS_INSTANCE_ROUTE), 'the scope came from the inputs');
  });

  it('drops the instance section where there is no instance metadata, unless asked for', async () => {
    const m = emu.machine;
    const scope = { subscriptionId: m.subscriptionId, resourceGroup: m.resourceGroup };
    emu.faults.script(IMDS_INSTANCE_ROUTE, { reset: true });
    const report = await gatherInfo(options(scope));
    assert.deepEqual(report.sections, ['identity', 'resources', 'permissions']);
    emu.faults.script(IMDS_INSTANCE_ROUTE, { reset: true });
    const asked = await gatherInfo(options({ ...scope, sections: ['instance'] }));
    assert.ok(asked.instance && !asked.instance.ok);
    assert.equal((asked.instance.error as ManagedIdentityError).key, 'InstanceMetadataUnavailable');
  });

  it('needs subscriptionId and resourceGroup where there is no instance metadata', async () => {
    emu.faults.script(IMDS_INSTANCE_ROUTE, { reset: true });
    await assert.rejects(gatherInfo(options()), (e: ManagedIdentityError) => e.key === 'ScopeRequired' && /Give both inputs/.test(e.message));
  });

  it('parses the subscriptionId and resourceGroup inputs at the edge: trimmed, empty is the VM\'s own, anything else refused', () => {
    assert.equal(parseSubscriptionId(' 00000000-1111-4222-8333-444444444444 '), '00000000-1111-4222-8333-444444444444');
    assert.equal(parseResourceGroup(' rg-agents(1) '), 'rg-agents(1)');
    for (const empty of [undefined, '', '  ']) {
      assert.equal(parseSubscriptionId(empty), undefined);
      assert.equal(parseResourceGroup(empty), undefined);
    }
    assert.throws(() => parseSubscriptionId('my-subscription'), (e: ManagedIdentityError) => e.kind === 'badInput' && e.key === 'SubscriptionIdInvalid');
    assert.throws(() => parseResourceGroup('rg/x'), (e: ManagedIdentityError) => e.kind === 'badInput' && e.key === 'ResourceGroupInvalid');
  });

  for (const [what, extra, key] of [
    ['the keyVault section without vault names', { sections: ['keyVault'] as const }, 'KeyVaultNamesMissing'],
    ['a plain-http Resource Manager that is not loopback', { cloud: customCloud('http://management.contoso.invalid/') }, 'BearerNotHttps'],
  ] as const) {
    it(`refuses ${what} before any request`, async () => {
      await assert.rejects(gatherInfo(options({ ...extra, sections: 'sections' in extra ? [...extra.sections] : undefined })), (e: ManagedIdentityError) => e.key === key);
      assert.equal(emu.requests.length, 0);
    });
  }

  it('keeps each failure in its section and goes on', async () => {
    const uai = emu.machine.userAssigned[0];
    const report = await gatherInfo(options({ token: { env: imdsEnv(emu), identity: { kind: 'clientId', id: uai.clientId } }, keyVaults: [{ name: 'kv-agents' }] }));
    assert.ok(report.identity?.ok, 'the token itself is fine');
    assert.ok(report.resources && !report.resources.ok);
    assert.equal((report.resources.error as ManagedIdentityError).key, 'ArmAuthorizationFailed');
    assert.ok(report.permissions?.ok, 'anyone may read their own permissions');
    assert.equal(report.permissions.value.readResourceGroup, 'no');
    const vault = report.keyVaults?.[0].vault;
    assert.ok(vault && !vault.ok);
    assert.equal((vault.error as ManagedIdentityError).key, 'VaultNotFound');
  });

  it('fails every Resource Manager section with the one token error when there is no token', async () => {
    const report = await gatherInfo(options({ token: { env: imdsEnv(emu), identity: { kind: 'clientId', id: '0f0f0f0f-1111-4222-8333-444444444444' } } }));
    assert.ok(report.identity && !report.identity.ok && report.resources && !report.resources.ok);
    assert.equal(report.identity.error, report.resources.error);
    assert.equal((report.identity.error as ManagedIdentityError).key, 'IdentityNotFound');
    assert.ok(report.instance?.ok, 'the instance needs no token');
  });

  it('notes a cloud that does not fit the VM, and a vault in another tenant', async () => {
    worldOf(emu).vm.azEnvironment = 'AZUREUSGOVERNMENTCLOUD';
    const vm = await gatherInfo(options({ sections: ['instance'], cloud: CLOUDS.AzureCloud }));
    assert.deepEqual(vm.notes, [{ key: 'CloudMismatch', args: ['AZUREUSGOVERNMENTCLOUD', 'AzureCloud', 'AzureUSGovernment'] }]);
    worldOf(emu).vault('kv-agents')!.tenantId = '99999999-8888-4777-8666-555555555555';
    const kv = await gatherInfo(options({ sections: ['keyVault'], keyVaults: [{ name: 'kv-agents' }] }));
    assert.equal(kv.notes[0].key, 'VaultOtherTenant');
  });

  it('says no when listing is refused, and why it believes what it says', async () => {
    const objectId = emu.machine.systemAssigned!.objectId;
    worldOf(emu).addVault({ name: 'kv-noaccess', rbac: true, secrets: 1 });
    worldOf(emu).addVault({ name: 'kv-policy', rbac: false, accessPolicies: [{ objectId, secrets: ['get'] }] });
    const report = await gatherInfo(options({ sections: ['keyVault'], keyVaults: [{ name: 'kv-noaccess' }, { name: 'kv-policy' }], listSecretNames: true }));
    const [rbac, policy] = report.keyVaults!;
    assert.deepEqual(vaultAccess(rbac), { listSecrets: 'no', listBasis: 'listed', readSecrets: 'no', readBasis: 'rbac' });
    assert.deepEqual(vaultAccess(policy), { listSecrets: 'no', listBasis: 'listed', readSecrets: 'yes', readBasis: 'accessPolicy' });
    const noList = await gatherInfo(options({ sections: ['keyVault'], keyVaults: [{ name: 'kv-policy' }] }));
    assert.deepEqual(vaultAccess(noList.keyVaults![0]), { listSecrets: 'no', listBasis: 'accessPolicy', readSecrets: 'yes', readBasis: 'accessPolicy' });
    assert.equal(emu.received(KEYVAULT_ROUTES.secret).length, 0);
  });

  it('reads a vault given by resource ID without listing the subscription’s vaults', async () => {
    const id = worldOf(emu).vault('kv-agents')!.id;
    const report = await gatherInfo(options({ sections: ['keyVault'], keyVaults: [{ name: 'kv-agents', id }] }));
    assert.ok(report.keyVaults?.[0].vault.ok);
    assert.equal(emu.received(ARM_ROUTES.vaults).length, 0);
    assert.equal(emu.received(ARM_ROUTES.vault).length, 1);
  });

  it('reads the sections input', () => {
    assert.equal(parseSections(''), undefined);
    assert.deepEqual(parseSections('KeyVault, identity\npermissions'), ['keyVault', 'identity', 'permissions']);
    assert.throws(() => parseSections('identity,secrets'), (e: ManagedIdentityError) => e.key === 'SectionUnknown' && e.args[0] === 'secrets');
  });
});
