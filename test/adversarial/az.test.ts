/**
 * Hostile Azure CLIs against the packaged token task (azLogin) and its
 * post-job step, under each handler's Node: a Debian-shaped az (bash, no
 * exec) whose program hangs with a child, one that ignores SIGTERM, one that
 * forks a child holding the pipes and exits. The step ends by timeoutSeconds
 * plus a few seconds and leaves no process of the tree behind.
 */
import { strict as assert } from 'node:assert';
import { AzureEmulator, imdsEnv } from '../../emulator';
import type { TaskRun } from '../../emulator/agent';
import { useEmulator } from '../helpers/emulator';
import { BASH, HostileAz, HostileMode, installHostileAz, survivors } from './hostile-process';
import { HANDLERS, runPackaged } from './packaged';

/** Generous: "did not hang", not speed (timeoutSeconds 2, a 3 s grace, Node start-up on a loaded machine). */
const DID_NOT_HANG_MS = 30_000;

describe('adversarial: a hostile az', function () {
  this.timeout(120_000);
  before(function () {
    if (!BASH || process.platform === 'win32') {
      console.warn('    SKIPPED: the hostile az tests need bash on Linux or macOS.');
      this.skip();
    }
  });
  let emu: AzureEmulator;
  useEmulator({}, (e) => void (emu = e), { once: true });

  function run(
    az: HostileAz,
    node: string,
    mode: HostileMode,
    on: string,
    label: string,
    extra: { stage?: 'postjobexecution'; main?: TaskRun; timeoutSeconds?: string; env?: Record<string, string> } = {},
  ): Promise<TaskRun> {
    return runPackaged('ManagedIdentityTokenV1', label, {
      nodePath: node,
      stage: extra.stage,
      inputs: { audience: 'AzureResourceManager', azLogin: 'true', timeoutSeconds: extra.timeoutSeconds ?? '2' },
      taskVariables: extra.main?.taskVariables,
      variables: extra.main ? { 'Agent.TempDirectory': extra.main.tempDirectory } : undefined,
      env: { ...imdsEnv(emu), PATH: `${az.dir}:${process.env.PATH}`, ...az.env(mode, on), ...extra.env },
      timeoutMs: 110_000,
    });
  }

  for (const [handler, node] of HANDLERS) {
    // The SIGTERM-proof one waits out the grace twice: under the first handler only.
    for (const mode of handler === HANDLERS[0][0] ? (['hang', 'ignoreTerm'] as const) : (['hang'] as const)) {
      it(`${handler}: an az login that ${mode === 'hang' ? 'hangs with a child' : 'ignores SIGTERM'} ends the step by timeoutSeconds plus a few seconds, tree and all; so does the post-job sign-out`, async () => {
        const az = installHostileAz();
        const main = await run(az, node, mode, 'login', `az ${mode} ${handler}`);
        assert.ok(main.durationMs < DID_NOT_HANG_MS, `the step took ${main.durationMs} ms`);
        assert.equal(main.result, 'Failed', main.log);
        assert.match(main.resultMessage ?? '', /'az login --identity' did not finish within 2 seconds and was stopped, with every process it started/);
        assert.deepEqual(await survivors(az.pids()), [], 'no az process outlives the step');

        const post = await run(az, node, mode, 'account clear', `post-job az ${mode} ${handler}`, { stage: 'postjobexecution', main });
        assert.ok(post.durationMs < DID_NOT_HANG_MS, `the post-job step took ${post.durationMs} ms`);
        assert.equal(post.result, 'Succeeded', post.log);
        assert.match(post.log, /##\[warning\]The Azure CLI clean-up failed: 'az account clear' did not finish within 2 seconds/);
        assert.deepEqual(await survivors(az.pids()), []);
      });
    }

    it(`${handler}: an az login that forks a child holding the pipes and exits does not hold the step, and the child is ended`, async () => {
      const az = installHostileAz();
      const main = await run(az, node, 'fork', 'login', `az fork ${handler}`);
      assert.ok(main.durationMs < DID_NOT_HANG_MS, `the step took ${main.durationMs} ms`);
      assert.equal(main.result, 'Succeeded', main.log);
      assert.deepEqual(await survivors(az.pids()), []);
    });
  }

  it('says when the sign-in as a whole ran out of timeoutSeconds, not the one command', async function () {
    if (HANDLERS.length === 0) this.skip();
    const az = installHostileAz();
    // az version takes 2 of the 3 seconds: az login, which hangs, has the one left.
    const main = await run(az, HANDLERS[0][1], 'hang', 'login', 'az overall limit', { timeoutSeconds: '3', env: { HOSTILE_AZ_VERSION_DELAY: '2' } });
    assert.ok(main.durationMs < DID_NOT_HANG_MS, `the step took ${main.durationMs} ms`);
    assert.equal(main.result, 'Failed', main.log);
    assert.match(main.resultMessage ?? '', /'az login --identity' was stopped after [01] seconds, with every process it started: the az commands of one sign-in together may run at most timeoutSeconds \(3 seconds\)/);
    assert.deepEqual(await survivors(az.pids()), []);
  });
});
