/**
 * The post-job step against a tampered record (the ManagedIdentityToken.azLogin
 * task variable) and a user's own AZURE_CONFIG_DIR, packaged task, stand-in
 * az that records its calls: it acts only on the folder the task provably
 * made in this job (its marker inside Agent.TempDirectory), and leaves a
 * preset folder as it found it.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AzureEmulator, imdsEnv } from '../../emulator';
import type { TaskRun } from '../../emulator/agent';
import { FakeAzCall, installFakeAz } from '../fixtures/fake-az';
import { useEmulator } from '../helpers/emulator';
import { runPackaged } from './packaged';

const RECORD = 'ManagedIdentityToken.azLogin';
const SYSTEM = 'systemAssignedIdentity';

describe('adversarial: the post-job step and its record', function () {
  this.timeout(60_000);
  let emu: AzureEmulator;
  let fakeAz: string;
  let azLog: string;
  useEmulator({}, (e) => {
    emu = e;
    fakeAz = installFakeAz();
    azLog = join(mkdtempSync(join(tmpdir(), 'az-log-')), 'calls.jsonl');
  });

  const azEnv = (extra: Record<string, string> = {}) => ({ ...imdsEnv(emu), PATH: `${fakeAz}:${process.env.PATH ?? ''}`, FAKE_AZ_LOG: azLog, ...extra });
  const azCalls = (): string[] => (existsSync(azLog) ? readFileSync(azLog, 'utf8').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as FakeAzCall).args.join(' ')) : []);

  function main(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<TaskRun> {
    return runPackaged('ManagedIdentityTokenV1', `azLogin ${JSON.stringify(inputs)}`, { inputs: { audience: 'AzureResourceManager', azLogin: 'true', ...inputs }, env: azEnv(env) });
  }

  function postJob(record: string | undefined, temp: string, env: Record<string, string> = {}): Promise<TaskRun> {
    return runPackaged('ManagedIdentityTokenV1', 'post-job', {
      stage: 'postjobexecution',
      taskVariables: record === undefined ? {} : { [RECORD]: record },
      variables: { 'Agent.TempDirectory': temp },
      env: azEnv(env),
    });
  }

  /** A folder with something of value in it. */
  function precious(parent: string, name: string): string {
    const dir = join(parent, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'azureProfile.json'), '{"subscriptions": ["someone else\'s"]}');
    return dir;
  }

  it("removes the folder it made in this job (its marker matches), after az account clear", async () => {
    const run = await main({});
    assert.equal(run.result, 'Succeeded', run.log);
    const dir = run.variables.get('AZURE_CONFIG_DIR')!.value;
    assert.ok(existsSync(join(dir, '.managed-identity-token')), 'the marker');
    const post = await postJob(run.taskVariables.get(RECORD), run.tempDirectory);
    assert.equal(post.result, 'Succeeded', post.log);
    assert.equal(azCalls().at(-1), 'account clear');
    assert.ok(!existsSync(dir));
  });

  for (const [what, target] of [
    ['the home folder', () => precious(mkdtempSync(join(tmpdir(), 'home-')), '.azure')],
    ['the root folder', () => '/'],
    ["another job's folder in the system temp folder, while Agent.TempDirectory is set", () => precious(tmpdir(), `azure-cli-mi-${Date.now()}`)],
    ['a folder of the right name in Agent.TempDirectory without the marker', (temp: string) => precious(temp, 'azure-cli-mi-forged')],
  ] as const) {
    it(`runs nothing in and removes nothing of ${what} when a tampered record names it`, async () => {
      const temp = mkdtempSync(join(tmpdir(), 'agent-temp-'));
      const dir = target(temp);
      const record = JSON.stringify({ configDir: dir, createdConfigDir: true, user: SYSTEM, marker: '0123456789abcdef0123456789abcdef' });
      const post = await postJob(record, temp);
      assert.equal(post.result, 'Succeeded', post.log);
      assert.deepEqual(azCalls(), [], 'no az command ran there');
      assert.ok(existsSync(dir), 'kept');
      if (dir !== '/') assert.ok(existsSync(join(dir, 'azureProfile.json')), 'its content kept');
      assert.match(post.log, /##\[warning\]The Azure CLI configuration folder '.*' was kept, and nothing was run in it/);
    });
  }

  it("in a preset AZURE_CONFIG_DIR, keeps a login that was there before, and makes the cloud it found active again", async () => {
    const own = mkdtempSync(join(tmpdir(), 'users-azure-'));
    const existing = JSON.stringify([{ id: 's', user: { name: SYSTEM, type: 'servicePrincipal' } }]);
    const env = { AZURE_CONFIG_DIR: own, FAKE_AZ_EXISTING: existing, FAKE_AZ_CLOUD: 'AzureCloud' };
    const run = await main({ cloud: 'AzureUSGovernment' }, env);
    assert.equal(run.result, 'Succeeded', run.log);
    const post = await postJob(run.taskVariables.get(RECORD), run.tempDirectory, env);
    assert.equal(post.result, 'Succeeded', post.log);
    const after = azCalls().slice(azCalls().lastIndexOf('login --identity --username') + 1);
    assert.ok(!after.some((c) => c.startsWith('logout')), 'the login that was there before is kept');
    assert.equal(azCalls().at(-1), 'cloud set --name AzureCloud');
    assert.ok(existsSync(own));
  });

  it('in a preset AZURE_CONFIG_DIR, signs out a login it added, and nothing when the record names another folder', async () => {
    const own = mkdtempSync(join(tmpdir(), 'users-azure-'));
    const run = await main({}, { AZURE_CONFIG_DIR: own });
    assert.equal(run.result, 'Succeeded', run.log);
    const post = await postJob(run.taskVariables.get(RECORD), run.tempDirectory, { AZURE_CONFIG_DIR: own });
    assert.equal(azCalls().at(-1), `logout --username ${SYSTEM}`);
    assert.equal(post.result, 'Succeeded', post.log);

    const calls = azCalls().length;
    const elsewhere = JSON.stringify({ configDir: mkdtempSync(join(tmpdir(), 'users-other-')), createdConfigDir: false, user: SYSTEM });
    const forged = await postJob(elsewhere, run.tempDirectory, { AZURE_CONFIG_DIR: own });
    assert.equal(forged.result, 'Succeeded', forged.log);
    assert.equal(azCalls().length, calls, 'no az command for a folder that is not this job\'s AZURE_CONFIG_DIR');
    assert.match(forged.log, /##\[warning\]The Azure CLI login recorded in '.*' was left alone/);
  });

  it('echoes a preset AZURE_CONFIG_DIR whose name holds a logging command inert, in the step and the post-job step', async () => {
    // The secret scan's forged-command check reads both outputs too.
    const own = join(mkdtempSync(join(tmpdir(), 'users-azure-')), '##vso[task.prependpath]pwned\u202e');
    mkdirSync(own);
    const run = await main({}, { AZURE_CONFIG_DIR: own });
    assert.equal(run.result, 'Succeeded', run.log);
    const post = await postJob(run.taskVariables.get(RECORD), run.tempDirectory, { AZURE_CONFIG_DIR: own });
    assert.equal(post.result, 'Succeeded', post.log);
    for (const r of [run, post]) {
      assert.ok(!r.commands.some((c) => c.command === 'task.prependpath'), 'no forged command obeyed');
      // What the log shows (a command's data, the record say, may hold the name as it is: the agent does not show or obey it).
      assert.match(r.log, /##_vso\[task\.prependpath\]pwned/);
      assert.doesNotMatch(r.log, /\u202e/);
    }
  });
});
