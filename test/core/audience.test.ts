import { strict as assert } from 'node:assert';
import { parseAudience, scopeOf } from '../../src/core/audience';
import { CLOUDS, customCloud } from '../../src/core/clouds';
import { ManagedIdentityError } from '../../src/core/errors';

function refused(input: string, key: string): void {
  assert.throws(() => parseAudience(input), (e: unknown) => e instanceof ManagedIdentityError && e.key === key && e.kind === 'badInput');
}

describe('audience', () => {
  it('resolves presets per cloud, case-insensitively', () => {
    assert.equal(parseAudience('AzureResourceManager').resource, 'https://management.azure.com/');
    assert.equal(parseAudience('azuredevops').resource, '499b84ac-1321-427f-aa17-267ca6975798');
    assert.equal(parseAudience('MicrosoftGraph', CLOUDS.AzureUSGovernment).resource, 'https://graph.microsoft.us');
    assert.equal(parseAudience('KeyVault', CLOUDS.AzureChinaCloud).resource, 'https://vault.azure.cn');
    assert.equal(parseAudience('Storage').resource, 'https://storage.azure.com/');
    assert.equal(parseAudience('AzureResourceManager', customCloud('https://127.0.0.1:8443')).resource, 'https://127.0.0.1:8443/');
  });

  it('sends a typed resource exactly as typed', () => {
    assert.equal(parseAudience('https://myapp.contoso.com').resource, 'https://myapp.contoso.com');
    assert.equal(parseAudience('https://management.azure.com/').resource, 'https://management.azure.com/');
    assert.equal(parseAudience('api://my-app').resource, 'api://my-app');
    assert.equal(parseAudience('  api://my-app  ').resource, 'api://my-app');
    assert.equal(parseAudience('6dae42f8-4368-4678-94ff-3960e28e3630').resource, '6dae42f8-4368-4678-94ff-3960e28e3630');
  });

  it('removes only one trailing /.default', () => {
    assert.equal(parseAudience('https://management.azure.com/.default').resource, 'https://management.azure.com');
    assert.equal(parseAudience('api://my-app/.default').resource, 'api://my-app');
    assert.equal(parseAudience('499b84ac-1321-427f-aa17-267ca6975798/.default').preset, 'AzureDevOps');
    refused('https://x.example/.default/.default', 'AudienceMalformed');
  });

  it('refuses empty, malformed and several scopes', () => {
    refused('', 'AudienceEmpty');
    refused('   ', 'AudienceEmpty');
    refused('management', 'AudienceMalformed');
    refused('management.azure.com', 'AudienceMalformed');
    refused('https://a.example/#frag', 'AudienceMalformed');
    refused('https://a.example/\r\nX-Injected: 1', 'AudienceSeveralScopes');
    refused('https://graph.microsoft.com/.default https://vault.azure.net/.default', 'AudienceSeveralScopes');
    refused('https://graph.microsoft.com/.default,https://vault.azure.net/.default', 'AudienceSeveralScopes');
  });

  it('names the input and gives an example in its message', () => {
    try {
      parseAudience('not a url');
      assert.fail('expected a failure');
    } catch (e) {
      assert.match((e as Error).message, /audience/);
      assert.match((e as Error).message, /https:\/\/|api:\/\//);
    }
  });

  it('turns a resource into its scope', () => {
    assert.equal(scopeOf('https://management.azure.com/'), 'https://management.azure.com/.default');
    assert.equal(scopeOf('api://my-app'), 'api://my-app/.default');
  });
});
