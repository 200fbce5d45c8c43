/**
 * Files that are not files: the Info task's outputJsonPath and mi-token
 * --file, pointed at a symbolic link to the process's own stdout, a FIFO or
 * a character device, refuse it with a clear message and leave it as it was
 * (the token never reaches stdout or the device). Packaged Info task, the
 * bundled mi-token.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AzureEmulator, imdsEnv } from '../../emulator';
import { runMiToken } from '../helpers/cli';
import { useEmulator } from '../helpers/emulator';
import { runPackaged } from './packaged';

const TARGETS: ReadonlyArray<readonly [string, (dir: string) => string]> = [
  ["a symbolic link to the process's stdout", (dir) => (symlinkSync('/proc/self/fd/1', join(dir, 'out')), join(dir, 'out'))],
  ['a FIFO', (dir) => (execFileSync('mkfifo', [join(dir, 'out')]), join(dir, 'out'))],
  // A device of its own (the null device's numbers) in a temporary folder: a build without the check would replace it, never /dev/null.
  ['a character device', (dir) => (execFileSync('mknod', [join(dir, 'out'), 'c', '1', '3']), join(dir, 'out'))],
];

/** Whether this machine lets us make a device node (root, and a container that allows it): else the device case is skipped, loudly. */
function canMakeDevice(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'mknod-'));
  try {
    execFileSync('mknod', [join(dir, 'probe'), 'c', '1', '3'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function skipDeviceWithoutRoot(test: Mocha.Context, what: string): void {
  if (what === 'a character device' && !canMakeDevice()) {
    console.warn('    SKIPPED: making a character device (mknod) needs root and a container that allows it.');
    test.skip();
  }
}

describe('adversarial: files that are not files', function () {
  this.timeout(60_000);
  before(function () {
    if (process.platform !== 'linux') {
      console.warn('    SKIPPED: the files-that-are-not-files tests need Linux (/proc, mkfifo, /dev/null).');
      this.skip();
    }
  });
  let emu: AzureEmulator;
  useEmulator({}, (e) => void (emu = e), { once: true });

  for (const [what, make] of TARGETS) {
    it(`ManagedIdentityInfo refuses an outputJsonPath that is ${what}`, async function () {
      skipDeviceWithoutRoot(this, what);
      const path = make(mkdtempSync(join(tmpdir(), 'not-a-file-')));
      const run = await runPackaged('ManagedIdentityInfoV1', `outputJsonPath ${what}`, {
        inputs: { cloud: 'Custom', armEndpoint: emu.url, armAudience: 'https://management.azure.com/', sections: 'identity', outputJsonPath: path },
        env: imdsEnv(emu),
      });
      assert.equal(run.result, 'Failed', run.log);
      assert.match(run.resultMessage ?? '', /Refusing to write to '.*': it is (a symbolic link|a FIFO|a character device)/);
      assert.ok(!lstatSync(path).isFile(), 'left as it was');
    });

    it(`mi-token --file refuses ${what}, exits 1 and writes the token nowhere`, async function () {
      skipDeviceWithoutRoot(this, what);
      const path = make(mkdtempSync(join(tmpdir(), 'not-a-file-')));
      const r = await runMiToken(['--file', path], { env: imdsEnv(emu), emu });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^mi-token: Refusing to write to '.*': it is (a symbolic link|a FIFO|a character device)/);
      assert.ok(!lstatSync(path).isFile(), 'left as it was');
    });
  }

  it('echoes an outputJsonPath whose name holds a logging command inert', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'out-')), '##vso[task.complete result=Failed]x.json');
    const run = await runPackaged('ManagedIdentityInfoV1', 'outputJsonPath with ##vso[', {
      inputs: { cloud: 'Custom', armEndpoint: emu.url, armAudience: 'https://management.azure.com/', sections: 'identity', outputJsonPath: path },
      env: imdsEnv(emu),
    });
    assert.equal(run.result, 'Succeeded', run.log);
    assert.equal(run.commands.filter((c) => c.command === 'task.complete').length, 1);
    assert.match(run.stdout, /##_vso\[task\.complete result=Failed\]x\.json/);
  });
});
