/**
 * mi-token with nowhere to write: started with stdout closed it exits non-zero
 * before asking for a token (Node would put the null device there and the
 * token would be lost with exit 0); --file still works then, and a wanted
 * discard (--claims >/dev/null, as examples/agent/start.sh does) stays a success.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_BIN } from '../../scripts/paths';
import { runMiToken } from '../helpers/cli';
import { behave, HostileServer, startHostileServer } from './hostile-server';

const SH = ['/bin/sh', '/usr/bin/sh'].find((p) => existsSync(p));

/** mi-token run by sh with its stdout redirected as `redirect` says (">&-" closes it). */
function withStdout(redirect: string, args: string[], env: Record<string, string>) {
  return runMiToken(args, { env, command: { file: SH!, args: ['-c', `exec "$@" ${redirect}`, 'sh', process.execPath, CLI_BIN] } });
}

describe('adversarial: mi-token with stdout closed', function () {
  this.timeout(30_000);
  let imds: HostileServer;
  before(async function () {
    if (!SH || process.platform !== 'linux') {
      console.warn('    SKIPPED: the closed-stdout tests need sh on Linux (/proc/self/fdinfo tells a closed stdout from >/dev/null).');
      this.skip();
    }
    imds = await startHostileServer(behave.token({}));
  });
  after(() => imds?.stop());
  const env = () => ({ AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.url });

  it('exits 1 with advice, before asking for a token, when stdout is closed', async () => {
    const before = imds.requests.length;
    const r = await withStdout('>&-', [], env());
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^mi-token: stdout is closed, so the token would be written nowhere\. Capture it .* or use --file\.$/m);
    assert.equal(imds.requests.length, before, 'no token was asked for');
  });

  it('writes --file with stdout closed, and keeps --claims >/dev/null a success', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mi-closed-')), 'token');
    const toFile = await withStdout('>&-', ['--file', file], env());
    assert.equal(toFile.code, 0, toFile.stderr);
    assert.match(readFileSync(file, 'utf8'), /^eyJ/);
    const discarded = await withStdout('>/dev/null', ['--claims'], env());
    assert.equal(discarded.code, 0, discarded.stderr);
    assert.match(discarded.stderr, /^ {2}aud /m);
  });
});
