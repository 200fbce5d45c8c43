/**
 * Proof that later steps' tools sign in through serveIdentity with no
 * identity-specific set-up: Microsoft's own clients (msal-node, @azure/identity
 * under Node 24, Python azure-identity from Debian's azure-cli, the Azure CLI)
 * run with the environment a later step gets, on an emulated VM with two
 * user-assigned identities and no system-assigned one. Each gets the chosen
 * identity without being told which; naming the other identity gets that one.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import type { TaskRun } from '../../emulator/agent';
import { AzureEmulator, IMDS_TOKEN_ROUTE, ROLES, worldOf } from '../../emulator';
import { findOnPath } from '../../scripts/paths';
import { decodeJwtClaims } from '../../src/core/jwt';
import { azurePython, ClientResult, node24, NodeClientCase, runAzureCli, runNodeClient, runPythonIdentity } from '../helpers/clients';
import { laterStepEnv } from '../helpers/identity-server';
import { useEmulator } from '../helpers/emulator';
import { recordOutput } from '../helpers/scan';
import { runStagedTask, runTokenTask } from '../helpers/tasks';

const ARM = 'https://management.azure.com/';

describe("serveIdentity: Microsoft's clients in later steps", function () {
  this.timeout(180_000);
  let emu: AzureEmulator;
  let run: TaskRun;
  let env: Record<string, string>;
  /** Only the endpoint variables: no AZURE_CLIENT_ID, so the client names no identity at all. */
  let bare: Record<string, string>;
  /** The clients that ran (a skipped one is not in the summary). */
  const ran = new Set<string>();
  // Registered first, so it runs before the emulator stops.
  after(async () => {
    const post = await runStagedTask('ManagedIdentityTokenV1', emu, { stage: 'postjobexecution', taskVariables: run.taskVariables, variables: { 'Agent.TempDirectory': run.tempDirectory } });
    assert.match(post.log, /Identity server stopped/);
    const summary = readFileSync(post.summaries[0].file, 'utf8');
    recordOutput('serve summary after the clients', summary, emu);
    if (process.env.SHOW_SERVE_SUMMARY) console.log(summary);
    // Each client that ran is named by its User-Agent.
    for (const agent of ran) assert.ok(summary.includes(agent), `${agent} in the summary`);
  });
  useEmulator(
    { systemAssigned: false, userAssigned: ['id-a', 'id-b'] },
    async (e) => {
      emu = e;
      // Both identities may read the VM's group, so az login finds the subscription whichever signs in.
      const world = worldOf(emu);
      for (const u of emu.machine.userAssigned) world.assign(u.objectId, ROLES.Reader, world.groupId(emu.machine.resourceGroup));
      const b = emu.machine.userAssigned[1];
      run = await runTokenTask(emu, { audience: 'AzureResourceManager', identityType: 'userAssigned', identityIdType: 'resourceId', identityId: b.resourceId, serveIdentity: 'true' });
      assert.equal(run.result, 'Succeeded', run.log);
      env = laterStepEnv(run);
      bare = Object.fromEntries(Object.entries(env).filter(([k]) => /^(IDENTITY_|MSI_)/.test(k)));
    },
    { once: true },
  );

  const a = () => emu.machine.userAssigned[0];
  const b = () => emu.machine.userAssigned[1];
  function assertIdentity(results: ClientResult[], expected: Record<string, string>): void {
    for (const r of results) {
      assert.ok(r.ok, `${r.id}: ${JSON.stringify(r.error)}`);
      assert.equal(decodeJwtClaims(r.token!)?.oid, expected[r.id], `${r.id} got the expected identity`);
      assert.ok(r.expiresOn === undefined || r.expiresOn > Date.now() / 1000, `${r.id} has a future expiry`);
    }
  }

  it('msal-node ManagedIdentityApplication', async () => {
    const cases: NodeClientCase[] = [
      { id: 'default', env: bare, resource: ARM },
      { id: 'other', env: bare, resource: ARM, selector: { clientId: a().clientId } },
      { id: 'job env', env, resource: 'https://vault.azure.net' },
    ];
    const results = await runNodeClient('msal-node', cases);
    assert.equal(results[0].source, 'AppService');
    assertIdentity(results, { default: b().objectId, other: a().objectId, 'job env': b().objectId });
  });

  it('@azure/identity ManagedIdentityCredential and DefaultAzureCredential (Node 24)', async function () {
    const { node, missing } = node24();
    if (!node) {
      console.warn(`    SKIPPED: @azure/identity needs Node >= 22: ${missing}`);
      return this.skip();
    }
    const mi = await runNodeClient('ManagedIdentityCredential', [
      { id: 'default', env: bare, resource: ARM },
      { id: 'other', env: bare, resource: `${ARM}.default`, selector: { resourceId: a().resourceId } },
    ], { node });
    assertIdentity(mi, { default: b().objectId, other: a().objectId });
    const dac = await runNodeClient('DefaultAzureCredential', [
      { id: 'job env', env, resource: `${ARM}.default` },
      { id: 'bare', env: bare, resource: 'https://storage.azure.com/.default' },
    ], { node });
    assertIdentity(dac, { 'job env': b().objectId, bare: b().objectId });
    ran.add('azsdk-js-identity');
  });

  it('Python azure-identity (from Debian azure-cli)', async function () {
    const py = await azurePython();
    if (!py) {
      console.warn('    SKIPPED: Python azure-identity not found (Debian: apt-get install azure-cli)');
      return this.skip();
    }
    const results = await runPythonIdentity(py.python, [
      { id: 'default', env: bare, resource: ARM },
      { id: 'other', env: bare, resource: ARM, clientId: a().clientId },
    ]);
    assertIdentity(results, { default: b().objectId, other: a().objectId });
    ran.add('azsdk-python-identity');
  });

  it('Azure CLI 2.45: az login --identity and az account get-access-token through MSI_ENDPOINT', async function () {
    const az = findOnPath('az');
    if (!az) {
      console.warn('    SKIPPED: the Azure CLI is not installed (Debian: apt-get install azure-cli)');
      return this.skip();
    }
    const cli = { MSI_ENDPOINT: env.MSI_ENDPOINT, MSI_SECRET: env.MSI_SECRET };
    const chosen = await runAzureCli(az, { env: cli, armUrl: emu.httpsUrl }, { caFile: emu.tls.pemFile });
    recordOutput('az through the identity server', chosen.output, emu);
    assert.ok(chosen.login.ok, chosen.login.error);
    assert.ok(chosen.token?.ok, chosen.token?.error);
    assert.equal(decodeJwtClaims(chosen.token!.accessToken!)?.oid, b().objectId);
    const other = await runAzureCli(az, { env: cli, armUrl: emu.httpsUrl, username: a().clientId }, { caFile: emu.tls.pemFile });
    recordOutput('az --username through the identity server', other.output, emu);
    assert.ok(other.token?.ok, other.token?.error ?? other.login.error);
    assert.equal(decodeJwtClaims(other.token!.accessToken!)?.oid, a().objectId);
    assert.ok(emu.received(IMDS_TOKEN_ROUTE).length > 0);
    ran.add('python-requests');
  });
});
