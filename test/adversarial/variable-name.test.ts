/**
 * variableName against the names the agent and the task use, through the
 * packaged token task: a reserved name fails before any token is asked for
 * (so no message can carry one), a harmless name that merely starts like a
 * reserved word is taken.
 */
import { strict as assert } from 'node:assert';
import { behave, HostileServer, startHostileServer } from './hostile-server';
import { runPackaged } from './packaged';

describe('adversarial: variableName', function () {
  this.timeout(60_000);
  let imds: HostileServer;
  before(async () => (imds = await startHostileServer(behave.token({}))));
  after(() => imds.stop());

  const run = (variableName: string) =>
    runPackaged('ManagedIdentityTokenV1', `variableName ${variableName}`, {
      inputs: { audience: 'AzureResourceManager', variableName },
      env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.url },
    });

  for (const name of ['Agent.TempDirectory', 'System.AccessToken', 'Build.BuildId', 'AZURE_CONFIG_DIR', 'ARM_CLIENT_ID']) {
    it(`refuses ${name} before asking for a token`, async () => {
      const before = imds.requests.length;
      const r = await run(name);
      assert.equal(r.result, 'Failed', r.log);
      assert.match(r.resultMessage ?? '', /not a valid variable name for this task/);
      assert.equal(imds.requests.length, before, 'no token was asked for');
      assert.ok(![...r.variables.keys()].some((k) => k.toLowerCase() === name.toLowerCase()));
    });
  }

  for (const name of ['SecretToken', 'InputToken', 'Pathfinder']) {
    it(`takes ${name}`, async () => {
      const r = await run(name);
      assert.equal(r.result, 'Succeeded', r.log);
      assert.ok(r.variables.get(name)?.secret);
    });
  }
});
