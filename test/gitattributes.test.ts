/**
 * .gitattributes: shell scripts and Dockerfiles check out with LF on any OS
 * (a Windows checkout with core.autocrlf cannot break a Linux container
 * build), PowerShell scripts follow the checkout. Asked of git itself.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath, ROOT } from '../scripts/paths';

function attributes(path: string): Record<string, string> {
  const out = execFileSync('git', ['check-attr', 'text', 'eol', '--', path], { cwd: ROOT, encoding: 'utf8' });
  return Object.fromEntries(out.trim().split('\n').map((line) => line.split(': ').slice(1) as [string, string]));
}

describe('.gitattributes', () => {
  before(function () {
    if (!findOnPath('git') || !existsSync(join(ROOT, '.git'))) {
      console.warn('    SKIPPED: the line-ending test needs git and a git checkout.');
      this.skip();
    }
  });

  it('keeps shell scripts, Dockerfiles and .ci/run LF in every checkout', () => {
    for (const path of ['examples/agent/start.sh', 'scripts/get-windows-node.sh', 'any/new/script.sh', 'Dockerfile', 'examples/agent/Dockerfile', 'Dockerfile.windows', 'agent.dockerfile', '.ci/run']) {
      assert.deepEqual(attributes(path), { text: 'set', eol: 'lf' }, path);
    }
  });

  it('leaves PowerShell scripts to the checkout (CRLF or LF, PowerShell reads both), and never converts images or packages', () => {
    assert.deepEqual(attributes('examples/agent/start.ps1'), { text: 'set', eol: 'unspecified' });
    assert.deepEqual(attributes('images/extension-icon.png'), { text: 'unset', eol: 'unspecified' });
    assert.deepEqual(attributes('dist/x.vsix'), { text: 'unset', eol: 'unspecified' });
  });

  it('holds the tracked shell scripts with LF only', () => {
    const files = execFileSync('git', ['ls-files', '*.sh', '.ci/run'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    assert.ok(files.includes('examples/agent/start.sh'));
    for (const f of files) assert.ok(!readFileSync(join(ROOT, f), 'utf8').includes('\r'), f);
  });
});
