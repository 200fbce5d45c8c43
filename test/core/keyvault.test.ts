/** Key Vault: names and IDs, the vault's configuration in both modes, and the data plane (paging, the 401 challenge, the 403 reasons). */
import { strict as assert } from 'node:assert';
import { AzureEmulator, imdsEnv, KEYVAULT_ROUTES, ROLES, worldOf } from '../../emulator';
import { acquireToken } from '../../src/core/acquire';
import { parseAudience } from '../../src/core/audience';
import type { ArmClient } from '../../src/core/arm';
import { ManagedIdentityError } from '../../src/core/errors';
import {
  challengeResource,
  describeVault,
  findVault,
  listSecretNames,
  parseChallenge,
  parseVaultRefs,
  policyAllowsSecret,
  secretNameOf,
  SecretListOptions,
  tokenMayGoTo,
  VaultInfo,
} from '../../src/core/keyvault';
import { emulatorArm } from '../helpers/info';
import { useEmulator } from '../helpers/emulator';

const SUB = '00000000-1111-4222-8333-444444444444';

describe('Key Vault', () => {
  describe('keyVaultNames', () => {
    it('takes names and resource IDs, comma or newline separated, once each', () => {
      const id = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-two`;
      assert.deepEqual(parseVaultRefs(` kv-one,\n${id}/\r\nKV-ONE\n\n`), [{ name: 'kv-one' }, { name: 'kv-two', id }]);
      assert.deepEqual(parseVaultRefs(''), []);
    });

    for (const bad of ['kv', 'a'.repeat(25), '1kv', 'kv-', 'kv--two', 'kv_two', '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st']) {
      it(`refuses '${bad.slice(0, 30)}'`, () => {
        assert.throws(() => parseVaultRefs(bad), (e: ManagedIdentityError) => e.key === 'VaultNameInvalid');
      });
    }
  });

  it('names a secret by the last segment of its id, decoded, or as sent when it does not decode', () => {
    assert.equal(secretNameOf('https://kv.vault.azure.net/secrets/db-password'), 'db-password');
    assert.equal(secretNameOf('https://kv.vault.azure.net/secrets/a%20b/'), 'a b');
    assert.equal(secretNameOf('https://kv.vault.azure.net/secrets/100%'), '100%');
    assert.equal(secretNameOf(undefined), '');
  });

  describe('the vault configuration', () => {
    // Shapes as in the REST API specification examples (getVault.json, listVaultBySubscription.json, createVaultWithNetworkAcls.json).
    const base = { id: `/subscriptions/${SUB}/resourceGroups/sample-group/providers/Microsoft.KeyVault/vaults/sample-vault`, name: 'sample-vault', location: 'westus' };

    it('reads an access-policy vault, its defaults, and this identity’s merged policy', () => {
      const info = describeVault(
        {
          ...base,
          properties: {
            tenantId: 't',
            sku: { family: 'A', name: 'standard' },
            vaultUri: 'https://sample-vault.vault.azure.net',
            accessPolicies: [
              { tenantId: 't', objectId: 'OID-1', permissions: { secrets: ['Get'], keys: ['encrypt'] } },
              { tenantId: 't', objectId: 'oid-1', applicationId: 'app', permissions: { secrets: ['list', 'get'] } },
              { tenantId: 't', objectId: 'someone-else', permissions: { secrets: ['all'] } },
            ],
          },
        },
        'oid-1',
      );
      assert.equal(info.vaultUri, 'https://sample-vault.vault.azure.net/');
      assert.equal(info.resourceGroup, 'sample-group');
      assert.equal(info.authorization, 'accessPolicies');
      assert.deepEqual(info.accessPolicy, { secrets: ['get', 'list'], keys: ['encrypt'], certificates: [] });
      assert.equal(info.accessPolicyCount, 3);
      assert.ok(policyAllowsSecret(info, 'List'));
      assert.equal(info.softDelete, true);
      assert.equal(info.softDeleteRetentionDays, 90);
      assert.equal(info.purgeProtection, false);
      assert.equal(info.publicNetworkAccess, 'Enabled');
      assert.equal(info.networkDefaultAction, 'Allow');
      assert.equal(describeVault({ ...base, properties: { accessPolicies: [] } }, 'oid-1').accessPolicy, null);
    });

    it('reads an RBAC vault with a firewall and private endpoints', () => {
      const info = describeVault(
        {
          ...base,
          properties: {
            enableRbacAuthorization: true,
            enablePurgeProtection: true,
            softDeleteRetentionInDays: 7,
            vaultUri: 'https://sample-vault.vault.azure.net/',
            publicNetworkAccess: 'Disabled',
            networkAcls: { defaultAction: 'Deny', bypass: 'None', ipRules: [{ value: '124.56.78.91/32' }, { value: '10.91.4.0/24' }], virtualNetworkRules: [{ id: 'x' }] },
            privateEndpointConnections: [{ id: `${base.id}/privateEndpointConnections/pe-1`, properties: { provisioningState: 'Succeeded', privateLinkServiceConnectionState: { status: 'Approved' } } }],
          },
        },
        'oid-1',
      );
      assert.equal(info.vaultUri, 'https://sample-vault.vault.azure.net/');
      assert.equal(info.authorization, 'rbac');
      assert.equal(info.accessPolicy, undefined);
      assert.equal(info.purgeProtection, true);
      assert.equal(info.softDeleteRetentionDays, 7);
      assert.deepEqual([info.networkDefaultAction, info.networkBypass, info.ipRules, info.virtualNetworkRules], ['Deny', 'None', 2, 1]);
      assert.deepEqual(info.privateEndpoints, [{ name: 'pe-1', status: 'Approved', provisioningState: 'Succeeded' }]);
    });
  });

  describe('the 401 challenge', () => {
    it('reads Key Vault’s WWW-Authenticate header', () => {
      assert.deepEqual(parseChallenge('Bearer authorization="https://login.windows.net/aaaabbbb-0000-cccc-1111-dddd2222eeee", resource="https://vault.azure.net"'), {
        authorization: 'https://login.windows.net/aaaabbbb-0000-cccc-1111-dddd2222eeee',
        resource: 'https://vault.azure.net',
        scope: undefined,
      });
      assert.equal(parseChallenge('Basic realm="x"'), undefined);
    });

    it('follows a challenge only to a resource the vault host belongs to', () => {
      const vault = { name: 'kv', vaultUri: 'https://kv.vault.usgovcloudapi.net/' };
      const challenge = (resource: string) => `Bearer authorization="https://login.microsoftonline.us/t", resource="${resource}"`;
      assert.equal(challengeResource(vault, challenge('https://vault.usgovcloudapi.net')), 'https://vault.usgovcloudapi.net');
      assert.equal(challengeResource(vault, 'Bearer authorization="x", scope="https://vault.usgovcloudapi.net/.default"'), 'https://vault.usgovcloudapi.net');
      for (const evil of ['https://management.azure.com', 'http://vault.usgovcloudapi.net', 'https://usgovcloudapi.net.evil.example', 'not a url']) {
        assert.throws(() => challengeResource(vault, challenge(evil)), (e: ManagedIdentityError) => e.key === 'KeyVaultChallengeMismatch', evil);
      }
      assert.equal(challengeResource(vault, 'Bearer error="invalid_token"'), undefined);
    });

    it('sends a first token only to a vault host under the Key Vault domain (or loopback); others are asked unauthenticated first', () => {
      assert.ok(tokenMayGoTo('https://kv.vault.azure.net/', 'https://vault.azure.net'));
      assert.ok(tokenMayGoTo('http://127.0.0.1:8080/keyvault/kv/', 'https://vault.azure.net'));
      for (const other of ['https://kv.vault.local.azurestack.external/', 'https://vault.azure.net.evil.example/', 'https://kv.privatelink.example/']) {
        assert.ok(!tokenMayGoTo(other, 'https://vault.azure.net'), other);
      }
    });
  });

  describe('the data plane, against the emulator', () => {
    let emu: AzureEmulator;
    let arm: ArmClient;
    const tokensAskedFor: string[] = [];
    const options = (extra: Partial<SecretListOptions> = {}): SecretListOptions => ({
      resource: 'https://vault.azure.net',
      tokenFor: async (resource) => {
        tokensAskedFor.push(resource);
        return (await acquireToken({ audience: parseAudience(resource), env: imdsEnv(emu) })).token;
      },
      objectId: emu.machine.systemAssigned!.objectId,
      retryPolicy: { baseDelayMs: 10 },
      ...extra,
    });
    const vaultInfo = async (name: string): Promise<VaultInfo> => describeVault(await findVault(arm, SUB, { name }), emu.machine.systemAssigned!.objectId);
    const refusal = async (name: string): Promise<ManagedIdentityError> => {
      try {
        await listSecretNames(await vaultInfo(name), options());
      } catch (e) {
        return e as ManagedIdentityError;
      }
      throw new Error('expected a refusal');
    };

    useEmulator({ extraResources: ['https://vault.usgovcloudapi.net'] }, async (e) => {
      emu = e;
      arm = await emulatorArm(emu);
      tokensAskedFor.length = 0;
    });

    it('lists 500 secret names in pages of 25, never a value', async () => {
      const vault = worldOf(emu).addVault({ name: 'kv-many', secrets: 500 });
      worldOf(emu).assign(emu.machine.systemAssigned!.objectId, ROLES.KeyVaultReader, vault.id);
      const { secrets, resource } = await listSecretNames(await vaultInfo('kv-many'), options());
      assert.equal(resource, 'https://vault.azure.net');
      assert.deepEqual(secrets.map((s) => s.name), vault.secrets.map((s) => s.name));
      assert.equal(emu.received(KEYVAULT_ROUTES.secrets).length, 20);
      assert.equal(emu.received(KEYVAULT_ROUTES.secret).length, 0);
      const text = JSON.stringify(secrets);
      for (const s of vault.secrets) assert.ok(!text.includes(s.value));
      assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(secrets[0])) as object).sort(), ['contentType', 'created', 'enabled', 'expires', 'name', 'updated']);
    });

    it('answers the 401 challenge once, with the resource it names', async () => {
      worldOf(emu).vault('kv-agents')!.audience = 'https://vault.usgovcloudapi.net';
      const { secrets, resource } = await listSecretNames(await vaultInfo('kv-agents'), options());
      assert.equal(secrets.length, 3);
      assert.equal(resource, 'https://vault.usgovcloudapi.net');
      assert.deepEqual(tokensAskedFor, ['https://vault.azure.net', 'https://vault.usgovcloudapi.net']);
      const [first, second] = emu.received(KEYVAULT_ROUTES.secrets);
      assert.notEqual(first.headers.authorization, second.headers.authorization);
    });

    it('refuses a plain-http vaultUri from Resource Manager before any token is asked for or sent', async () => {
      for (const vaultUri of ['http://kv-agents.vault.azure.net/', 'http://kv-agents.example.invalid/']) {
        const vault = { ...(await vaultInfo('kv-agents')), vaultUri };
        await assert.rejects(listSecretNames(vault, options()), (e: ManagedIdentityError) => e.key === 'BearerNotHttps' && e.message.includes(vaultUri.replace(/\/$/, '')));
      }
      assert.deepEqual(tokensAskedFor, []);
      assert.equal(emu.received(KEYVAULT_ROUTES.secrets).length, 0);
    });

    it('explains a 401 that persists after the challenge', async () => {
      emu.faults.script(KEYVAULT_ROUTES.secrets, { status: 401, headers: { 'WWW-Authenticate': 'Bearer authorization="https://login.windows.net/other-tenant", resource="https://vault.azure.net"' }, body: { error: { code: 'Unauthorized', message: 'AKV10032: Invalid issuer.' } } }, 2);
      const e = await refusal('kv-agents');
      assert.equal(e.key, 'KeyVaultUnauthorized');
      assert.match(e.message, /authority https:\/\/login\.windows\.net\/other-tenant.*AKV10032/);
      assert.equal(emu.received(KEYVAULT_ROUTES.secrets).length, 2);
    });

    it('RBAC mode without a role: ForbiddenByRbac, with the role to assign and the scope', async () => {
      worldOf(emu).addVault({ name: 'kv-rbac', rbac: true, secrets: 2 });
      const e = await refusal('kv-rbac');
      assert.equal(e.key, 'KeyVaultForbiddenByRbac');
      assert.match(e.message, /Key Vault Secrets User.*--scope \/subscriptions\/.*\/vaults\/kv-rbac Support details/);
      // Key Vault's request ID, for a support case.
      assert.match(e.support ?? '', /^x-ms-request-id [0-9a-f-]{36}$/);
      assert.ok(e.message.endsWith(`Support details (give them to Azure support if you open a case): ${e.support}.`));
    });

    it('access-policy mode without List: AccessDenied, with the policy to add', async () => {
      worldOf(emu).addVault({ name: 'kv-policy', rbac: false, secrets: 2, accessPolicies: [{ objectId: emu.machine.systemAssigned!.objectId, secrets: ['get'] }] });
      const info = await vaultInfo('kv-policy');
      assert.deepEqual(info.accessPolicy?.secrets, ['get']);
      const e = await refusal('kv-policy');
      assert.equal(e.key, 'KeyVaultAccessDenied');
      assert.match(e.message, /az keyvault set-policy --name kv-policy --object-id \S+ --secret-permissions get list/);
    });

    it('a firewall that denies the agent: ForbiddenByFirewall, with its address', async () => {
      const vault = worldOf(emu).vault('kv-agents')!;
      vault.defaultAction = 'Deny';
      assert.equal((await refusal('kv-agents')).key, 'KeyVaultForbiddenByFirewall');
      assert.match((await refusal('kv-agents')).message, /as the vault sees it: 127\.0\.0\.1\)/);
      vault.ipRules = ['127.0.0.1/32'];
      assert.equal((await listSecretNames(await vaultInfo('kv-agents'), options())).secrets.length, 3);
    });

    it('public access disabled: ForbiddenByConnection', async () => {
      worldOf(emu).vault('kv-agents')!.publicNetworkAccess = 'Disabled';
      assert.equal((await refusal('kv-agents')).key, 'KeyVaultForbiddenByConnection');
    });

    it('finds a vault by name among the subscription’s vaults, or says it cannot see it', async () => {
      assert.equal((await vaultInfo('KV-LEGACY')).name, 'kv-legacy');
      worldOf(emu).addVault({ name: 'kv-hidden', resourceGroup: 'rg-other' });
      await assert.rejects(vaultInfo('kv-hidden'), (e: ManagedIdentityError) => e.key === 'VaultNotFound' && /kv-hidden.*Reader on the vault/.test(e.message));
    });
  });
});
