/** mi-token's command line, parsed in-process. */
import { strict as assert } from 'node:assert';
import { parseCommandLine, TokenCommand, UsageError } from '../../src/cli/args';
import { IDENTITY_SOURCE_CHOICES as SOURCE_CHOICES } from '../../src/core/sources/select';
import { CLOUDS } from '../../src/core/clouds';

function tokenCommand(argv: string[]): TokenCommand {
  const c = parseCommandLine(argv);
  assert.equal(c.command, 'token');
  return c as TokenCommand;
}

describe('mi-token arguments', () => {
  it('defaults to an Azure DevOps token from the system-assigned identity, auto source, as the bare token', () => {
    assert.deepEqual(tokenCommand([]), {
      command: 'token',
      audience: { resource: '499b84ac-1321-427f-aa17-267ca6975798', preset: 'AzureDevOps' },
      identity: { kind: 'system' },
      source: 'auto',
      cloud: CLOUDS.AzureCloud,
      timeoutSeconds: 120,
      output: 'token',
      file: undefined,
      claims: false,
    });
  });

  it('reads every option, with or without =', () => {
    const c = tokenCommand([
      '--audience=https://vault.azure.net',
      '--resource-id',
      '/subscriptions/00000000-1111-4222-8333-444444444444/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/agents',
      '--source=IMDS',
      '--cloud',
      'azureusgovernment',
      '--timeout',
      '30',
      '--output',
      'JSON',
      '--file',
      '/run/secrets/ado-token',
      '--claims',
    ]);
    assert.deepEqual(c.audience, { resource: 'https://vault.azure.net' });
    assert.deepEqual(c.identity, {
      kind: 'resourceId',
      id: '/subscriptions/00000000-1111-4222-8333-444444444444/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/agents',
    });
    assert.equal(c.source, 'imds');
    assert.equal(c.cloud, CLOUDS.AzureUSGovernment);
    assert.equal(c.timeoutSeconds, 30);
    assert.equal(c.output, 'json');
    assert.equal(c.file, '/run/secrets/ado-token');
    assert.equal(c.claims, true);
  });

  it('accepts every source the core offers', () => {
    for (const source of SOURCE_CHOICES) assert.equal(tokenCommand(['--source', source]).source, source);
  });

  it('lets --help and --version win over anything else', () => {
    assert.deepEqual(parseCommandLine(['--audience', 'KeyVault', '-h']), { command: 'help' });
    assert.deepEqual(parseCommandLine(['--version', '--output', 'json']), { command: 'version' });
  });

  for (const [what, argv, pattern] of [
    ['an empty --file', ['--file', ' '], /--file needs a path/],
    ['an object ID that is not a GUID', ['--object-id', 'agents'], /^--object-id: identityId 'agents' is not a GUID, but identityIdType is objectId/],
    ['a resource ID of a VM', ['--resource-id', '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm'], /^--resource-id: .*not a user-assigned identity resource ID/],
    ['three selectors', ['--client-id', 'a', '--object-id', 'b', '--resource-id', 'c'], /^--client-id and --object-id and --resource-id exclude each other/],
    ['a zero timeout', ['--timeout', '0'], /^--timeout: timeoutSeconds '0'/],
  ] as const) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parseCommandLine([...argv]), (e: unknown) => e instanceof UsageError && pattern.test(e.message));
    });
  }
});
