/**
 * src/core/process-tree.ts: a command's whole tree is stopped at its limit,
 * and the run ends by the limit plus the grace period whatever the tree does.
 * Real processes on POSIX (a Debian-shaped az wrapper around a hanging
 * program, one that ignores SIGTERM, one that forks and exits); the Windows
 * branch and the signal order with an injected host and fake timers.
 */
import { strict as assert } from 'node:assert';
import { ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { system32 } from '../../src/core/private-path';
import * as sinon from 'sinon';
import { ProcessHost, runBounded } from '../../src/core/process-tree';
import { BASH, installHostileAz, survivors } from '../helpers/hostile-process';

/** Generous: these assert "did not hang", not speed. */
const DID_NOT_HANG_MS = 15_000;

describe('runBounded on real processes', function () {
  this.timeout(40_000);
  before(function () {
    if (!BASH || process.platform === 'win32') {
      console.warn('    SKIPPED: the process-tree tests need bash on Linux or macOS.');
      this.skip();
    }
  });

  for (const [mode, on] of [
    ['hang', 'login'],
    ['ignoreTerm', 'login'],
  ] as const) {
    it(`stops a Debian-shaped az whose program ${mode === 'hang' ? 'hangs with a child' : 'ignores SIGTERM'}: the whole tree, by the limit plus the grace`, async () => {
      const az = installHostileAz();
      const started = Date.now();
      const result = await runBounded({ file: az.az, args: ['login', '--identity'], env: { ...process.env, ...az.env(mode, on) }, timeoutMs: 500, graceMs: 500 });
      assert.ok(Date.now() - started < DID_NOT_HANG_MS, `took ${Date.now() - started} ms`);
      assert.equal(result.timedOut, true);
      assert.equal(result.code, null);
      assert.ok(az.pids().length >= 2, 'the wrapper and its program ran');
      assert.deepEqual(await survivors(az.pids()), [], 'no process of the tree is left');
    });
  }

  it('ends when az exits but a child it forked keeps the pipes open, and ends that child too', async () => {
    const az = installHostileAz();
    const started = Date.now();
    let out = '';
    const result = await runBounded({
      file: az.az,
      args: ['login', '--identity'],
      env: { ...process.env, ...az.env('fork', 'login') },
      timeoutMs: 60_000,
      drainMs: 300,
      onStdout: (d) => (out += d.toString()),
    });
    assert.ok(Date.now() - started < DID_NOT_HANG_MS, `took ${Date.now() - started} ms`);
    assert.equal(result.timedOut, false);
    assert.equal(result.code, 0);
    assert.equal(out.trim(), '[]');
    assert.deepEqual(await survivors(az.pids()), []);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`ends the running trees when this process is stopped with ${signal} (the agent cancelling the step), then stops as the signal says`, async () => {
      const az = installHostileAz();
      const script = `
        const { runBounded } = require(${JSON.stringify(require.resolve('../../src/core/process-tree'))});
        void runBounded({ file: ${JSON.stringify(az.az)}, args: ['login'], timeoutMs: 600000 });
        setTimeout(() => process.kill(process.pid, '${signal}'), 500);`;
      const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, ...az.env('hang', 'login') }, stdio: 'ignore' });
      const ended = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
      assert.equal(ended, signal, 'the process still ends by the signal');
      assert.ok(az.pids().length >= 2, 'the tree had started');
      assert.deepEqual(await survivors(az.pids()), [], 'no process of its tree is left');
    });
  }

  it('reports a command that cannot start', async () => {
    const result = await runBounded({ file: '/nonexistent/az', args: [], timeoutMs: 1000 });
    assert.match(String(result.error), /ENOENT/);
  });
});

/** A child that never ends on its own, for an injected host. */
function fakeChild(pid: number): ChildProcess {
  const child = Object.assign(new EventEmitter(), { pid, stdout: new PassThrough(), stderr: new PassThrough(), kill: sinon.stub(), unref: sinon.stub() });
  return child as unknown as ChildProcess;
}

describe('runBounded with an injected host', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => (clock = sinon.useFakeTimers()));
  afterEach(() => clock.restore());

  function host(platform: NodeJS.Platform) {
    const spawned: Array<{ file: string; args: readonly string[]; options: unknown }> = [];
    const kills: Array<[number, string]> = [];
    const h: ProcessHost = {
      platform,
      spawn: (file, args, options) => {
        spawned.push({ file, args, options });
        return fakeChild(4242 + spawned.length - 1);
      },
      kill: (pid, signal) => void kills.push([pid, signal]),
    };
    return { h, spawned, kills };
  }

  it('on Linux: starts the command in its own group, sends the group SIGTERM at the limit and SIGKILL after the grace, and ends then', async () => {
    const { h, spawned, kills } = host('linux');
    let done = false;
    const run = runBounded({ file: 'az', args: ['login'], timeoutMs: 10_000, graceMs: 3000 }, h).then((r) => ((done = true), r));
    assert.equal((spawned[0].options as { detached?: boolean }).detached, true);
    await clock.tickAsync(9999);
    assert.deepEqual(kills, []);
    await clock.tickAsync(1);
    assert.deepEqual(kills, [[-4242, 'SIGTERM']]);
    await clock.tickAsync(2999);
    assert.equal(done, false);
    await clock.tickAsync(1);
    assert.deepEqual(kills, [[-4242, 'SIGTERM'], [-4242, 'SIGKILL']]);
    assert.deepEqual(await run, { code: null, timedOut: true, error: undefined });
  });

  it('on Windows: ends the tree with taskkill /T /F /PID at the limit (no process group), and ends by the grace', async () => {
    const { h, spawned, kills } = host('win32');
    const run = runBounded({ file: 'C:\\az.cmd', args: ['login'], timeoutMs: 5000, graceMs: 2000, windowsVerbatimArguments: true }, h);
    assert.equal((spawned[0].options as { detached?: boolean }).detached, false);
    assert.equal((spawned[0].options as { windowsVerbatimArguments?: boolean }).windowsVerbatimArguments, true);
    await clock.tickAsync(5000);
    assert.deepEqual(
      spawned.slice(1).map((s) => [s.file, s.args]),
      [[system32(process.env, 'taskkill.exe'), ['/T', '/F', '/PID', '4242']]],
    );
    await clock.tickAsync(2000);
    assert.equal((await run).timedOut, true);
    assert.deepEqual(kills, [], 'no POSIX signal on Windows');
  });

  it("on Windows: taskkill is System32's, by full path from SystemRoot, never a taskkill.exe in the current folder or on PATH", async () => {
    const { h, spawned } = host('win32');
    h.env = { SystemRoot: 'D:\\WIN' };
    const run = runBounded({ file: 'C:\\az.cmd', args: ['login'], timeoutMs: 1000, graceMs: 1000 }, h);
    await clock.tickAsync(2000);
    await run;
    assert.equal(spawned[1].file, 'D:\\WIN\\System32\\taskkill.exe');
  });
});
