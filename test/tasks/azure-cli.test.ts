/**
 * The real Azure CLI (Debian's azure-cli, 2.45 in CI) against the emulator:
 * the task signs it in with azLogin, a later step of the same job gets a token
 * from it, and the post-job step signs it out and removes the directory. The
 * CLI reaches the identity through MSI_ENDPOINT (it POSTs resource=… there
 * when MSI_SECRET is set without APPSETTING_WEBSITE_SITE_NAME), and Resource
 * Manager through the emulator's HTTPS listener as a Custom cloud, trusted
 * with REQUESTS_CA_BUNDLE (the CLI sends no bearer token over plain HTTP).
 * Skipped, loudly, where az is not installed.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ARM_SUBSCRIPTIONS_ROUTE, AzureEmulator, MSI_ENDPOINT_ROUTE, msiEndpointEnv, ROLES, worldOf } from '../../emulator';
import type { TaskRun } from '../../emulator/agent';
import { recordOutput } from '../helpers/scan';
import { findOnPath } from '../../scripts/paths';
import { runStagedTask, runTokenTask } from '../helpers/tasks';
import { useEmulator } from '../helpers/emulator';

const run = promisify(execFile);
const AZ = findOnPath('az');

describe('ManagedIdentityToken@1 with the real Azure CLI', function () {
  this.timeout(180_000);
  let emu: AzureEmulator;
  let jobEnv: Record<string, string>;
  let home: string;

  before(function () {
    if (!AZ) {
      console.warn('    SKIPPED: the Azure CLI (az) is not installed: apt-get install azure-cli (.ci/run does) to run these tests.');
      this.skip();
    }
  });

  useEmulator({ userAssigned: ['id-deploy'] }, (e) => {
    emu = e;
    home = mkdtempSync(join(tmpdir(), 'home-'));
    jobEnv = {
      ...msiEndpointEnv(emu),
      REQUESTS_CA_BUNDLE: emu.tls.pemFile,
      HOME: home,
      // Nothing but loopback: no telemetry upload, no survey, errors only from commands that print status.
      AZURE_CORE_COLLECT_TELEMETRY: 'false',
      AZURE_CORE_SURVEY_MESSAGE: 'false',
      AZURE_CORE_NO_COLOR: 'true',
    };
  });

  const inputs = () => ({ audience: 'AzureResourceManager', azLogin: 'true', cloud: 'Custom', armEndpoint: emu.httpsUrl, armAudience: 'https://management.azure.com/' });

  /** A later script step of the job: the task's plain variables are in its environment. */
  async function laterStep(task: TaskRun, args: string[]): Promise<string> {
    const env = { ...process.env, ...jobEnv, AZURE_CONFIG_DIR: task.variables.get('AZURE_CONFIG_DIR')?.value ?? '', AZURE_CORE_ONLY_SHOW_ERRORS: 'true' };
    const { stdout, stderr } = await run(AZ!, args, { env, timeout: 60_000 });
    recordOutput(`az ${args.join(' ')}`, `${stdout}\n${stderr}`, emu);
    return stdout;
  }

  function postJob(task: TaskRun, env: Record<string, string> = {}): Promise<TaskRun> {
    return runStagedTask('ManagedIdentityTokenV1', emu, {
      stage: 'postjobexecution',
      taskVariables: task.taskVariables,
      variables: { 'Agent.TempDirectory': task.tempDirectory },
      env: { ...jobEnv, ...env },
      timeoutMs: 90_000,
    });
  }

  it('signs in for later steps of the job in a private AZURE_CONFIG_DIR, and the post-job step signs out and removes it', async () => {
    const task = await runTokenTask(emu, inputs(), { env: jobEnv, timeoutMs: 90_000 });
    assert.equal(task.result, 'Succeeded', task.log + task.stderr);
    assert.ok(emu.received(MSI_ENDPOINT_ROUTE).length >= 1, 'az asked MSI_ENDPOINT');
    assert.match(emu.received(ARM_SUBSCRIPTIONS_ROUTE)[0].url, /^\/subscriptions\?api-version=/);
    const dir = task.variables.get('AZURE_CONFIG_DIR')?.value ?? '';
    assert.ok(dir.startsWith(task.tempDirectory) && existsSync(join(dir, 'azureProfile.json')), `the login is in ${dir}`);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.ok(!existsSync(join(home, '.azure')), 'nothing in ~/.azure');
    assert.match(task.log, /Azure CLI 2\.\d+\.\d+: the identity is named with/);

    // A later step of the same job: the CLI is signed in, in that directory, and gets tokens.
    const account = JSON.parse(await laterStep(task, ['account', 'show', '--output', 'json'])) as { id: string; user: { name: string }; environmentName: string };
    assert.equal(account.id, emu.machine.subscriptionId);
    assert.equal(account.user.name, 'systemAssignedIdentity');
    assert.equal(account.environmentName, 'ManagedIdentityCustomCloud');
    const minted = emu.minted.length;
    // The token's length, not the token: the test output is scanned for secrets.
    const got = JSON.parse(await laterStep(task, ['account', 'get-access-token', '--query', '{length: length(accessToken), subscription: subscription}', '--output', 'json'])) as { length: number; subscription: string };
    assert.ok(emu.minted.length > minted, 'a new token was minted for the later step');
    assert.equal(got.length, emu.minted.at(-1)!.token.length);
    assert.equal(got.subscription, emu.machine.subscriptionId);

    const post = await postJob(task, { AZURE_CONFIG_DIR: dir });
    assert.equal(post.result, 'Succeeded', post.log + post.stderr);
    assert.match(post.log, /az account clear/);
    assert.match(post.log, /Signed the Azure CLI out/);
    assert.ok(!existsSync(dir), 'the directory is gone');
  });

  it("signs a user-assigned identity in with the user's own AZURE_CONFIG_DIR, and only signs it out after the job", async () => {
    const own = mkdtempSync(join(tmpdir(), 'users-azure-'));
    const uai = emu.machine.userAssigned[0];
    // A role in the subscription, so that az login lists it.
    const world = worldOf(emu);
    world.assign(uai.objectId, ROLES.Reader, world.groupId(emu.machine.resourceGroup));
    const task = await runTokenTask(emu, { ...inputs(), identityType: 'userAssigned', identityIdType: 'clientId', identityId: uai.clientId }, { env: { ...jobEnv, AZURE_CONFIG_DIR: own }, timeoutMs: 90_000 });
    assert.equal(task.result, 'Succeeded', task.log + task.stderr);
    assert.ok(!task.variables.has('AZURE_CONFIG_DIR'));
    const sent = new URLSearchParams(emu.received(MSI_ENDPOINT_ROUTE)[0].body);
    assert.equal(sent.get('client_id'), uai.clientId);
    assert.equal(sent.get('resource'), 'https://management.azure.com/');

    const post = await postJob(task, { AZURE_CONFIG_DIR: own });
    assert.equal(post.result, 'Succeeded', post.log + post.stderr);
    assert.match(post.log, /az logout --username userAssignedIdentity/);
    assert.ok(existsSync(own), "the user's directory is kept");
    const left = await run(AZ!, ['account', 'list', '--output', 'json'], { env: { ...process.env, ...jobEnv, AZURE_CONFIG_DIR: own }, timeout: 60_000 });
    recordOutput('az account list', `${left.stdout}\n${left.stderr}`, emu);
    assert.deepEqual(JSON.parse(left.stdout), [], 'no account left');
  });
});
