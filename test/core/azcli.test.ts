import { strict as assert } from 'node:assert';
import {
  azCloudCommands,
  azIdentityUser,
  azLoginArgs,
  azCleanupCommands,
  hasLoginOf,
  parseActiveCloud,
  compareVersions,
  hasIdentityFlags,
  parseAzAccounts,
  parseAzVersion,
  parseLoginRecord,
  parseSubscription,
  selectAccount,
  serializeLoginRecord,
} from '../../src/core/azcli';
import { CLOUDS, customCloud } from '../../src/core/clouds';
import { SYSTEM_ASSIGNED, userAssigned } from '../../src/core/identity';

const ID = '0f0f0f0f-1111-4222-8333-444444444444';
const RID = '/subscriptions/00000000-1111-4222-8333-444444444444/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-a';

describe('Azure CLI arguments', () => {
  it('reads the CLI version from az version', () => {
    assert.equal(parseAzVersion('{"azure-cli": "2.45.0", "azure-cli-core": "2.45.0", "extensions": {}}'), '2.45.0');
    assert.equal(parseAzVersion('{"azure-cli": "2.70.0b1"}'), '2.70.0b1');
    for (const bad of ['', 'not json', '[]', '{"azure-cli": 2}', '{"azure-cli-core": "2.45.0"}']) assert.equal(parseAzVersion(bad), undefined, bad);
  });

  it('compares versions numerically', () => {
    assert.ok(compareVersions('2.69.0', '2.9.0') > 0);
    assert.equal(compareVersions('2.69', '2.69.0'), 0);
    assert.ok(compareVersions('2.68.99', '2.69.0') < 0);
    assert.ok(hasIdentityFlags('2.69.0') && hasIdentityFlags('3.0.0') && !hasIdentityFlags('2.45.0') && !hasIdentityFlags(undefined));
  });

  it('names a user-assigned identity by kind on 2.69 and later, with --username before, and nothing for system-assigned', () => {
    assert.deepEqual(azLoginArgs(SYSTEM_ASSIGNED, '2.70.0', false), ['login', '--identity', '--output', 'json']);
    assert.deepEqual(azLoginArgs(userAssigned('clientId', ID), '2.69.0', false).slice(2, 4), ['--client-id', ID]);
    assert.deepEqual(azLoginArgs(userAssigned('objectId', ID), '2.69.0', false).slice(2, 4), ['--object-id', ID]);
    assert.deepEqual(azLoginArgs(userAssigned('resourceId', RID), '2.69.0', false).slice(2, 4), ['--resource-id', RID]);
    assert.deepEqual(azLoginArgs(userAssigned('objectId', ID), '2.45.0', true), ['login', '--identity', '--username', ID, '--allow-no-subscriptions', '--output', 'json']);
    assert.deepEqual(azLoginArgs(userAssigned('clientId', ID), undefined, false).slice(2, 4), ['--username', ID], 'an unknown version gets the form every CLI takes');
    assert.equal(azIdentityUser(SYSTEM_ASSIGNED), 'systemAssignedIdentity');
    assert.equal(azIdentityUser(userAssigned('clientId', ID)), 'userAssignedIdentity');
  });

  it('switches clouds only where needed, and registers a Custom cloud from its Resource Manager URL', () => {
    assert.deepEqual(azCloudCommands(CLOUDS.AzureCloud, { freshConfigDir: true }), []);
    assert.deepEqual(azCloudCommands(CLOUDS.AzureCloud, { freshConfigDir: false }), [['cloud', 'set', '--name', 'AzureCloud']]);
    assert.deepEqual(azCloudCommands(CLOUDS.AzureChinaCloud, { freshConfigDir: true }), [['cloud', 'set', '--name', 'AzureChinaCloud']]);
    const stack = customCloud('https://management.local.azurestack.external/');
    assert.deepEqual(azCloudCommands(stack, { freshConfigDir: true }), [
      ['cloud', 'register', '--name', 'ManagedIdentityCustomCloud', '--endpoint-resource-manager', 'https://management.local.azurestack.external'],
      ['cloud', 'set', '--name', 'ManagedIdentityCustomCloud'],
    ]);
    assert.deepEqual(azCloudCommands(stack, { freshConfigDir: false, customRegistered: true, armAudience: 'https://management.adfs.local/x' })[0], [
      'cloud', 'update', '--name', 'ManagedIdentityCustomCloud', '--endpoint-resource-manager', 'https://management.local.azurestack.external', '--endpoint-active-directory-resource-id', 'https://management.adfs.local/x',
    ]);
  });

  it('takes a subscription ID or a plausible name, and nothing else', () => {
    assert.equal(parseSubscription('  '), undefined);
    assert.deepEqual(parseSubscription(' 00000000-1111-4222-8333-444444444444 '), { by: 'id', value: '00000000-1111-4222-8333-444444444444' });
    assert.deepEqual(parseSubscription('0F0F0F0F-1111-4222-8333-444444444444'), { by: 'id', value: '0f0f0f0f-1111-4222-8333-444444444444' });
    for (const name of ['Contoso Production', 'Pay-As-You-Go', 'Visual Studio Enterprise – MPN', 'dev_2024 (EU)', 'Abonnement d’essai']) {
      assert.deepEqual(parseSubscription(name), { by: 'name', value: name }, name);
    }
    for (const bad of ['00000000-1111-4222-8333', '{00000000-1111-4222-8333-44444444444}', '/subscriptions/00000000-1111-4222-8333-444444444444', 'subscriptions/x', 'a\nb', '<script>', '---', 'x'.repeat(129), 'a;b', 'a|b']) {
      assert.equal(parseSubscription(bad), null, bad);
    }
  });

  const [A, B, C, T] = ['aaaaaaaa-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000002', 'cccccccc-0000-4000-8000-000000000003', 'dddddddd-0000-4000-8000-000000000004'];

  it('reads the accounts az login prints and picks the one asked for, or the default', () => {
    const accounts = parseAzAccounts(
      JSON.stringify([
        { id: A, name: 'Dev', tenantId: T, isDefault: false },
        { id: B, name: 'Prod', tenantId: T, isDefault: true },
        { name: 'no id' },
        { id: '##vso[task.setvariable variable=X]y', name: 'not a GUID', tenantId: T },
        { id: C, name: 'odd tenant', tenantId: '##vso[task.complete result=Failed]' },
        null,
      ]),
    );
    assert.deepEqual(accounts.map((a) => a.id), [A, B, C]);
    assert.equal(accounts[2].tenantId, '', 'a tenant ID that is not a GUID is dropped');
    assert.equal(selectAccount(accounts, undefined)?.id, B);
    assert.equal(selectAccount(accounts, { by: 'name', value: 'dev' })?.id, A);
    assert.equal(selectAccount(accounts, { by: 'id', value: A.toUpperCase() })?.id, A);
    assert.equal(selectAccount(accounts, { by: 'name', value: 'Test' }), undefined);
    assert.deepEqual(parseAzAccounts('WARNING: not json'), []);
    assert.deepEqual(parseAzAccounts('{}'), []);
  });

  it('keeps what to undo between the task and its post-job step', () => {
    const mine = { configDir: '/agent/_temp/azure-cli-mi-x', createdConfigDir: true, user: 'systemAssignedIdentity' };
    assert.deepEqual(parseLoginRecord(serializeLoginRecord(mine)), mine);
    assert.deepEqual(parseLoginRecord(serializeLoginRecord({ ...mine, timeoutSeconds: 30 })), { ...mine, timeoutSeconds: 30 });
    assert.deepEqual(parseLoginRecord(JSON.stringify({ ...mine, timeoutSeconds: -1 })), mine, 'a bad timeout is left out');
    const marker = '0123456789abcdef0123456789abcdef';
    assert.deepEqual(parseLoginRecord(serializeLoginRecord({ ...mine, marker })), { ...mine, marker });
    assert.deepEqual(parseLoginRecord(JSON.stringify({ ...mine, marker: '../x', previousCloud: 'a;b', loginExisted: 'no' })), mine, 'bad fields are left out');
    assert.deepEqual(azCleanupCommands(mine), [['account', 'clear']]);
    const users = { ...mine, createdConfigDir: false, user: 'userAssignedIdentity' };
    assert.deepEqual(azCleanupCommands(users), [['logout', '--username', 'userAssignedIdentity']]);
    assert.deepEqual(azCleanupCommands({ ...users, loginExisted: true }), [], 'a login that was there before is kept');
    assert.deepEqual(azCleanupCommands({ ...users, loginExisted: true, previousCloud: 'AzureCloud' }), [['cloud', 'set', '--name', 'AzureCloud']]);
    for (const bad of [undefined, '', 'x', '{}', '{"configDir":"","createdConfigDir":true,"user":"u"}', '{"configDir":"/d","createdConfigDir":"yes","user":"u"}']) {
      assert.equal(parseLoginRecord(bad), undefined, String(bad));
    }
  });

  it('reads what was in a user\'s folder before the task: a login of the identity, the active cloud', () => {
    const list = JSON.stringify([{ id: 's', user: { name: 'systemAssignedIdentity', type: 'servicePrincipal' } }]);
    assert.equal(hasLoginOf(list, 'systemAssignedIdentity'), true);
    assert.equal(hasLoginOf(list, 'userAssignedIdentity'), false);
    assert.equal(hasLoginOf('WARNING: Please run az login', 'systemAssignedIdentity'), false);
    assert.equal(parseActiveCloud('{"name": "AzureUSGovernment", "isActive": true}'), 'AzureUSGovernment');
    assert.equal(parseActiveCloud('{"name": "x; rm -rf /"}'), undefined);
    assert.equal(parseActiveCloud(''), undefined);
  });
});
