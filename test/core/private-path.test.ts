/** Private files and folders: mode 0600/0700 on POSIX; on Windows (injected here) icacls removes inherited access and grants the agent's user alone. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedIdentityError } from '../../src/core/errors';
import { icaclsArgs, makePrivate, PrivateHost, ProgramRun } from '../../src/core/private-path';
import { writeSecretFile } from '../../src/core/secret-file';

const SID = 'S-1-5-21-3623811015-3361044348-30300820-1013';

interface FakeWindows extends PrivateHost {
  runs: Array<{ file: string; args: readonly string[] }>;
  chmods: Array<[string, number]>;
}

function windowsHost(answers: { whoami?: ProgramRun; icacls?: ProgramRun; onIcacls?: (args: readonly string[]) => void } = {}, env: NodeJS.ProcessEnv = {}): FakeWindows {
  const host: FakeWindows = {
    platform: 'win32',
    env: { SystemRoot: 'C:\\WINDOWS', USERDOMAIN: 'CONTOSO', USERNAME: 'agentsvc', ...env },
    runs: [],
    chmods: [],
    run(file, args) {
      host.runs.push({ file, args });
      if (/whoami\.exe$/i.test(file)) return answers.whoami ?? { status: 0, output: `"contoso\\agentsvc","${SID}"\r\n` };
      answers.onIcacls?.(args);
      return answers.icacls ?? { status: 0, output: 'Successfully processed 1 files; Failed processing 0 files\r\n' };
    },
    chmod(path, mode) {
      host.chmods.push([path, mode]);
    },
  };
  return host;
}

describe('makePrivate', () => {
  it('on Windows removes inherited access and grants the agent user (by SID, from System32\\whoami.exe) full control of a folder and what it will hold', () => {
    const host = windowsHost();
    makePrivate('C:\\agent\\_work\\_temp\\azure-cli-mi-x1', 'folder', host);
    assert.deepEqual(host.runs, [
      { file: 'C:\\WINDOWS\\System32\\whoami.exe', args: ['/user', '/fo', 'csv', '/nh'] },
      { file: 'C:\\WINDOWS\\System32\\icacls.exe', args: ['C:\\agent\\_work\\_temp\\azure-cli-mi-x1', '/inheritance:r', '/grant:r', `*${SID}:(OI)(CI)F`, '/Q'] },
    ]);
    assert.deepEqual(host.chmods, [], 'no mode on NTFS');
  });

  it('on Windows grants a file without inheritance flags, and asks whoami once per host', () => {
    const host = windowsHost();
    makePrivate('C:\\t\\a.md', 'file', host);
    makePrivate('C:\\t\\b.md', 'file', host);
    assert.deepEqual(
      host.runs.map((r) => r.args),
      [['/user', '/fo', 'csv', '/nh'], icaclsArgs('C:\\t\\a.md', 'file', `*${SID}`), icaclsArgs('C:\\t\\b.md', 'file', `*${SID}`)],
    );
    assert.equal(icaclsArgs('x', 'file', 'u')[3], 'u:F');
  });

  it('on Windows falls back to USERDOMAIN\\USERNAME when whoami gives no SID (Wine prints only the name), and to USERNAME alone', () => {
    const wine = windowsHost({ whoami: { status: 0, output: 'VM\\root\r\n' } });
    makePrivate('C:\\x', 'folder', wine);
    assert.equal(wine.runs[1].args[3], 'CONTOSO\\agentsvc:(OI)(CI)F');
    const noDomain = windowsHost({ whoami: { status: null, output: 'spawn ENOENT' } }, { USERDOMAIN: '' });
    makePrivate('C:\\x', 'file', noDomain);
    assert.equal(noDomain.runs[1].args[3], 'agentsvc:F');
  });

  it('on Windows finds System32 under windir when SystemRoot is missing', () => {
    const host = windowsHost({}, { SystemRoot: undefined, windir: 'D:\\Win' });
    makePrivate('C:\\x', 'file', host);
    assert.equal(host.runs[0].file, 'D:\\Win\\System32\\whoami.exe');
    assert.equal(host.runs[1].file, 'D:\\Win\\System32\\icacls.exe');
  });

  it('on Windows fails with advice naming the path and icacls output when icacls fails, and when no user can be named', () => {
    const host = windowsHost({ icacls: { status: 5, output: 'C:\\x: Access is denied.\r\nSuccessfully processed 0 files; Failed processing 1 files' } });
    assert.throws(
      () => makePrivate('C:\\x', 'folder', host),
      (e: ManagedIdentityError) => e.key === 'PrivateAccessFailed' && e.message.includes("'C:\\x'") && e.message.includes('icacls exit 5') && e.message.includes('Access is denied') && /Nothing secret was written/.test(e.message),
    );
    const nobody = windowsHost({ whoami: { status: 1, output: 'ERROR' } }, { USERNAME: '' });
    assert.throws(() => makePrivate('C:\\x', 'folder', nobody), (e: ManagedIdentityError) => e.key === 'PrivateAccessNoUser');
    assert.equal(nobody.runs.filter((r) => /icacls/.test(r.file)).length, 0, 'no icacls without a user');
  });

  it('elsewhere sets mode 0700 on a folder and 0600 on a file, and runs nothing', () => {
    const host = { ...windowsHost(), platform: 'linux' as const };
    makePrivate('/tmp/d', 'folder', host);
    makePrivate('/tmp/f', 'file', host);
    assert.deepEqual(host.chmods, [['/tmp/d', 0o700], ['/tmp/f', 0o600]]);
    assert.deepEqual(host.runs, []);
  });
});

describe('writeSecretFile on Windows (injected platform)', () => {
  it('makes the temporary file private while it is still empty, then writes and renames it into place', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secret-win-'));
    const target = join(dir, 'token');
    const seen: Array<{ path: string; size: number }> = [];
    const host = windowsHost({ onIcacls: (args) => seen.push({ path: args[0], size: statSync(args[0]).size }) });
    writeSecretFile(target, 'the-secret', host);
    assert.equal(seen.length, 1);
    assert.notEqual(seen[0].path, target, 'the temporary file beside it');
    assert.equal(seen[0].size, 0, 'protected before the secret goes in');
    assert.equal(readFileSync(target, 'utf8'), 'the-secret');
  });

  it('writes nothing when icacls fails, and leaves no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secret-win-'));
    const host = windowsHost({ icacls: { status: 1332, output: 'No mapping between account names and security IDs was done.' } });
    assert.throws(() => writeSecretFile(join(dir, 'token'), 'the-secret', host), /PrivateAccess|No mapping/);
    assert.deepEqual(readdirSync(dir), []);
  });
});
