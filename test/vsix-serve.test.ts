/**
 * Black box: serveIdentity from the unzipped .vsix under each handler's Node:
 * the step ends while its server (serve.js, bundled beside index.js) answers,
 * and the post-job step (post.js) stops it.
 */
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HANDLER_NODES } from '../scripts/vsix';
import { decodeJwtClaims } from '../src/core/jwt';
import { rawRequest } from './helpers/identity-server';
import { withEmulator } from './helpers/emulator';
import { packagedTask, requireHandlerNode, runStagedTask } from './helpers/tasks';

describe('the .vsix: serveIdentity', () => {
  let taskDir: string;
  before(async () => (taskDir = await packagedTask('ManagedIdentityTokenV1')));

  it('bundles the server beside the task', () => assert.ok(existsSync(join(taskDir, 'serve.js'))));

  for (const h of HANDLER_NODES) {
    const { handler, node } = h;
    it(`serves the chosen identity past the step and stops in the post-job step under ${handler}`, async function () {
      requireHandlerNode(this, h);
      await withEmulator({ systemAssigned: false, userAssigned: ['id-a', 'id-b'] }, async (emu) => {
        const b = emu.machine.userAssigned[1];
        const inputs = { audience: 'AzureResourceManager', identityType: 'userAssigned', identityIdType: 'objectId', identityId: b.objectId, serveIdentity: 'true' };
        const run = await runStagedTask('ManagedIdentityTokenV1', emu, { taskDir, nodePath: node, inputs });
        assert.equal(run.result, 'Succeeded', run.log);
        const endpoint = new URL(run.variables.get('IDENTITY_ENDPOINT')!.value);
        const answer = await rawRequest(Number(endpoint.port), `${endpoint.pathname}?api-version=2019-08-01&resource=https%3A%2F%2Fvault.azure.net`, {
          headers: { 'X-IDENTITY-HEADER': run.variables.get('IDENTITY_HEADER')!.value, 'User-Agent': `vsix-${handler}` },
        });
        assert.equal(decodeJwtClaims(String(answer.json.access_token))?.oid, b.objectId);
        assert.equal(run.variables.get('AZURE_CLIENT_ID')?.value, b.clientId, 'the client ID from the token, for an identity chosen by object ID');
        const post = await runStagedTask('ManagedIdentityTokenV1', emu, { taskDir, nodePath: node, stage: 'postjobexecution', taskVariables: run.taskVariables, variables: { 'Agent.TempDirectory': run.tempDirectory } });
        assert.match(post.log, /Identity server stopped .*\. Answers: 1;/);
        await assert.rejects(rawRequest(Number(endpoint.port), '/msi/token'), /ECONNREFUSED/);
      });
    });
  }
});
