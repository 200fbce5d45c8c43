/**
 * Black box: unzip the built .vsix and run each bundled task with plain node,
 * under Node 20 (the Node20_1 handler) and Node 24 (the Node24 handler),
 * against the emulator. Also checks the package's shape and size.
 */
import { strict as assert } from 'node:assert';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEVOPS_CONNECTION_DATA_ROUTE, devopsOf, IMDS_TOKEN_ROUTE, SERVICE_FABRIC_TOKEN_ROUTE, serviceFabricEnv } from '../emulator';
import { vsixPath } from '../scripts/package';
import { TASK_NAMES } from '../scripts/paths';
import { folderSize, HANDLER_NODES } from '../scripts/vsix';
import { withConnectProxy } from './helpers/proxy';
import { requireHandlerNode as requireNode, runInfoTask, runStagedTask, unpackedVsix } from './helpers/tasks';
import { withEmulator } from './helpers/emulator';

describe('the .vsix', () => {
  const vsix = vsixPath();
  let unpacked: string;
  before(async () => (unpacked = await unpackedVsix()));

  it('holds each task bundled, with no node_modules, within 1 MB a task', () => {
    for (const name of TASK_NAMES) {
      const task = join(unpacked, 'tasks', name);
      for (const f of ['index.js', 'task.json', 'task.loc.json', 'icon.png', 'Strings/resources.resjson/en-US/resources.resjson']) {
        assert.ok(existsSync(join(task, f)), `${name}/${f}`);
      }
      assert.ok(!existsSync(join(task, 'node_modules')));
      assert.ok(folderSize(task) < 1024 * 1024, `${name} folder is ${folderSize(task)} bytes`);
      if (name === 'ManagedIdentityTokenV1') assert.ok(existsSync(join(task, 'post.js')), 'the post-job step');
    }
    assert.ok(statSync(vsix).size < 1.5 * 1024 * 1024);
  });

  it("bundles only the parts of undici the core uses (lib/undici.js: Agent, Client, ProxyAgent, buildConnector, a dispatcher's request())", () => {
    for (const name of TASK_NAMES) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const lib = require(join(unpacked, 'tasks', name, 'lib', 'undici.js')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(lib).sort(), ['Agent', 'Client', 'ProxyAgent', 'buildConnector'], name);
      assert.equal(typeof (lib.Agent as { prototype: { request?: unknown } }).prototype.request, 'function', `${name}: Dispatcher.request`);
      assert.ok(statSync(join(unpacked, 'tasks', name, 'lib', 'undici.js')).size < 400 * 1024, `${name}: no fetch, WebSocket, cache or mocks`);
    }
  });

  for (const h of HANDLER_NODES) {
    const { handler, node } = h;
    it(`runs ManagedIdentityToken under ${handler}`, async function () {
      requireNode(this, h);
      await withEmulator({}, async (emu) => {
        const run = await runStagedTask('ManagedIdentityTokenV1', emu, {
          taskDir: join(unpacked, 'tasks', 'ManagedIdentityTokenV1'),
          nodePath: node,
          inputs: { audience: 'https://management.azure.com/.default', variableName: 'ArmToken', outputVariables: 'true' },
        });
        assert.equal(run.result, 'Succeeded', run.log + run.stderr);
        assert.equal(run.stderr, '');
        assert.deepEqual(run.variables.get('ArmToken'), { value: emu.minted[0].token, secret: true, output: false });
        assert.equal(run.outputs.get('ArmToken')?.secret, true);
        assert.match(run.variables.get('ArmToken.expiresOn')?.value ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
        assert.equal(run.variables.get('ArmToken.audience')?.value, 'https://management.azure.com');
        // The post-job step (post.js runs index.js in its post-job stage): nothing to clean up here.
        const post = await runStagedTask('ManagedIdentityTokenV1', emu, { taskDir: join(unpacked, 'tasks', 'ManagedIdentityTokenV1'), nodePath: node, stage: 'postjobexecution', taskVariables: run.taskVariables });
        assert.equal(post.result, 'Succeeded', post.log + post.stderr);
        assert.equal(post.stderr, '');
        assert.match(post.log, /Clean-up done/);
      });
    });

    it(`loads its lazily required libraries (lib/) under ${handler}: undici for Service Fabric's pinned HTTPS and verifyAzureDevOps`, async function () {
      requireNode(this, h);
      await withEmulator({}, async (emu) => {
        devopsOf(emu).addMember(emu.machine.systemAssigned!);
        const run = await runStagedTask('ManagedIdentityTokenV1', emu, {
          taskDir: join(unpacked, 'tasks', 'ManagedIdentityTokenV1'),
          nodePath: node,
          env: serviceFabricEnv(emu),
          variables: { 'System.CollectionUri': `${emu.url}/contoso/` },
          inputs: { audience: 'AzureDevOps', identitySource: 'serviceFabric', verifyAzureDevOps: 'true' },
        });
        assert.equal(run.result, 'Succeeded', run.log + run.stderr);
        assert.equal(run.stderr, '', 'nothing on stderr');
        assert.equal(emu.received(SERVICE_FABRIC_TOKEN_ROUTE).length, 1);
        assert.equal(emu.received(DEVOPS_CONNECTION_DATA_ROUTE).length, 1);
      });
    });

    it(`goes direct to IMDS under ${handler} even when the environment names a proxy and asks Node to use it (NODE_USE_ENV_PROXY)`, async function () {
      requireNode(this, h);
      await withEmulator({}, async (emu) => {
        await withConnectProxy(async (proxy) => {
          const proxyEnv = { NODE_USE_ENV_PROXY: '1', HTTP_PROXY: proxy.url, http_proxy: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: '' };
          const run = await runStagedTask('ManagedIdentityTokenV1', emu, { taskDir: join(unpacked, 'tasks', 'ManagedIdentityTokenV1'), nodePath: node, env: proxyEnv, inputs: { audience: 'AzureResourceManager' } });
          // The test proxy refuses a proxied GET with 405, so a request through it would have failed the task.
          assert.equal(run.result, 'Succeeded', run.log + run.stderr);
          assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 1);
          assert.deepEqual(proxy.connects, []);
        });
      });
    });

    it(`runs ManagedIdentityInfo under ${handler}`, async function () {
      requireNode(this, h);
      await withEmulator({}, async (emu) => {
        const run = await runInfoTask(emu, { keyVaultNames: 'kv-agents', listSecretNames: 'true' }, { taskDir: join(unpacked, 'tasks', 'ManagedIdentityInfoV1'), nodePath: node });
        assert.equal(run.result, 'Succeeded', run.log + run.stderr);
        assert.equal(run.stderr, '');
        assert.ok(run.log.includes('This identity can list secrets in kv-agents: yes'));
      });
    });
  }
});
