/** One version everywhere (scripts/release.ts keeps it so): a release with a stale task version would ship no new task code. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { changelogVersion, versionsOf } from '../../scripts/release';
import { taskDirs } from '../../scripts/loc';
import { ROOT } from '../../scripts/paths';

describe('the version', () => {
  const versions = versionsOf(ROOT);
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;

  it('is the same in package.json, the lock, packages/mi-token, vss-extension.json and every task.json and task.loc.json', () => {
    const disagree = Object.entries(versions).filter(([, v]) => v !== version);
    assert.deepEqual(disagree, [], `not ${version}: run npm run release (or make them equal by hand)`);
    assert.ok(Object.keys(versions).length >= 9, Object.keys(versions).join(', '));
  });

  it('heads CHANGELOG.md', () => {
    assert.equal(changelogVersion(ROOT), version);
  });

  it("is in each task's releaseNotes, when it has some", () => {
    for (const dir of taskDirs(ROOT)) {
      const notes = (JSON.parse(readFileSync(join(dir, 'task.json'), 'utf8')) as { releaseNotes?: string }).releaseNotes;
      if (notes !== undefined) assert.match(notes, new RegExp(`^Version ${version.replace(/\./g, '\\.')} `), dir);
    }
  });
});
