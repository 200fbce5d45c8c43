/** Wildcard evaluation of Microsoft.Authorization/permissions, as Azure RBAC does it. */
import { strict as assert } from 'node:assert';
import { actionMatches, check, isAllowed, Permission } from '../../src/core/permissions';

describe('permissions', () => {
  it('matches actions with * anywhere, without regard to case', () => {
    assert.ok(actionMatches('*', 'Microsoft.KeyVault/vaults/read'));
    assert.ok(actionMatches('*/read', 'Microsoft.Resources/subscriptions/resourceGroups/read'));
    assert.ok(actionMatches('microsoft.keyvault/*', 'Microsoft.KeyVault/vaults/secrets/getSecret/action'));
    assert.ok(actionMatches('Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/vaults/secrets/read'));
    assert.ok(!actionMatches('Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/vaults/read'));
    assert.ok(!actionMatches('*/read', 'Microsoft.KeyVault/vaults/write'));
    assert.ok(!actionMatches('Microsoft.KeyVault/vaults/read', 'Microsoft.KeyVault/vaults/readX'));
    // Dots and other characters are literal.
    assert.ok(!actionMatches('Microsoft.KeyVault/vaults/read', 'MicrosoftXKeyVault/vaults/read'));
  });

  it('subtracts notActions only within the same role', () => {
    const contributor: Permission = { actions: ['*'], notActions: ['Microsoft.Authorization/*/Write'] };
    assert.equal(isAllowed([contributor], 'Microsoft.Authorization/roleAssignments/write', false), 'no');
    assert.equal(isAllowed([contributor, { actions: ['Microsoft.Authorization/*'] }], 'Microsoft.Authorization/roleAssignments/write', false), 'yes');
  });

  it('keeps actions and data actions apart', () => {
    const reader: Permission = { actions: ['*/read'], notActions: [], dataActions: [], notDataActions: [] };
    const secretsUser: Permission = { actions: [], dataActions: ['Microsoft.KeyVault/vaults/secrets/getSecret/action', 'Microsoft.KeyVault/vaults/secrets/readMetadata/action'] };
    assert.equal(check([reader], 'readResourceGroup'), 'yes');
    assert.equal(check([reader], 'readVault'), 'yes');
    assert.equal(check([reader], 'readSecrets'), 'no');
    assert.equal(check([reader, secretsUser], 'readSecrets'), 'yes');
    assert.equal(check([reader, secretsUser], 'listSecrets'), 'yes');
    assert.equal(check([{ dataActions: ['*'], notDataActions: ['Microsoft.KeyVault/vaults/secrets/getSecret/action'] }], 'readSecrets'), 'no');
    assert.equal(check([], 'readResourceGroup'), 'no');
  });

  it('says when only a conditional assignment grants it', () => {
    const conditional: Permission = { dataActions: ['Microsoft.KeyVault/vaults/secrets/getSecret/action'], condition: "@Resource[Microsoft.KeyVault/vaults/secrets:name] StringEquals 'x'" };
    assert.equal(check([conditional], 'readSecrets'), 'conditional');
    assert.equal(check([conditional, { dataActions: ['Microsoft.KeyVault/*'] }], 'readSecrets'), 'yes');
  });
});
