/** writeSecretFile (outputJsonPath, mi-token --file): private, atomic, and only to a regular file or a new path. */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import fs = require('node:fs');
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sinon from 'sinon';
import { SECRET_FILE_MODE, writeSecretFile } from '../../src/core/secret-file';

describe('writeSecretFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'secret-'));
  });
  afterEach(() => sinon.restore());

  it('creates the temporary file exclusively with mode 0600, so it is never readable by others', () => {
    const open = sinon.spy(fs, 'openSync');
    const old = process.umask(0);
    try {
      writeSecretFile(join(dir, 'token'), 'value');
    } finally {
      process.umask(old);
    }
    assert.equal(open.callCount, 1);
    assert.deepEqual(open.firstCall.args.slice(1), ['wx', SECRET_FILE_MODE]);
    assert.match(String(open.firstCall.args[0]), /\/\.token\.\d+\.[0-9a-f]{12}\.tmp$/);
    assert.equal(fs.statSync(join(dir, 'token')).mode & 0o777, 0o600);
  });

  it('keeps the old file whole when writing fails half way, and leaves no temporary file', () => {
    const file = join(dir, 'token');
    fs.writeFileSync(file, 'old token');
    const write = fs.writeSync;
    sinon.stub(fs, 'writeSync').callsFake(((fd: number, data: Buffer, offset: number) => {
      if (offset > 0) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      return write(fd, data, 0, 4);
    }) as typeof fs.writeSync);
    assert.throws(() => writeSecretFile(file, 'a new token that does not fit'), /ENOSPC/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'old token');
    assert.deepEqual(fs.readdirSync(dir), ['token']);
  });

  it('leaves no temporary file when the target cannot be replaced', () => {
    fs.mkdirSync(join(dir, 'token'));
    assert.throws(() => writeSecretFile(join(dir, 'token'), 'value'), /it is a folder/);
    assert.deepEqual(fs.readdirSync(dir), ['token']);
  });

  for (const [what, make] of [
    ['a symbolic link to /proc/self/fd/1', (p: string) => fs.symlinkSync('/proc/self/fd/1', p)],
    ['a symbolic link to a regular file', (p: string) => (fs.writeFileSync(`${p}.real`, 'x'), fs.symlinkSync(`${p}.real`, p))],
    ['a FIFO', (p: string) => execFileSync('mkfifo', [p])],
  ] as const) {
    it(`refuses ${what}, and leaves it as it was`, function () {
      if (process.platform === 'win32') {
        console.warn(`    SKIPPED: ${what} needs a POSIX file system.`);
        this.skip();
      }
      const target = join(dir, 'token');
      make(target);
      assert.throws(() => writeSecretFile(target, 'value'), /Refusing to write to '.*token': it is (a symbolic link|a FIFO)/);
      assert.ok(!fs.lstatSync(target).isFile(), 'not replaced by a regular file');
      assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
    });
  }

  it('refuses a character device', function () {
    // One of its own (mknod needs root; skipped without), never /dev/null: code without the check would replace it.
    const device = join(dir, 'null');
    try {
      execFileSync('mknod', [device, 'c', '1', '3'], { stdio: 'ignore' });
    } catch {
      console.warn('    SKIPPED: making a character device (mknod) needs root and a container that allows it.');
      this.skip();
    }
    assert.throws(() => writeSecretFile(device, 'value'), /Refusing to write to '.*null': it is a character device/);
    assert.ok(fs.lstatSync(device).isCharacterDevice());
  });

  it('replaces a regular file and writes a new path', () => {
    fs.writeFileSync(join(dir, 'old'), 'old');
    writeSecretFile(join(dir, 'old'), 'new');
    writeSecretFile(join(dir, 'new'), 'new');
    assert.equal(fs.readFileSync(join(dir, 'old'), 'utf8') + fs.readFileSync(join(dir, 'new'), 'utf8'), 'newnew');
  });
});
