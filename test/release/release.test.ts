/** npm run release on a scratch copy of the repository (a temporary git repository): one consistent bump. */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { locFiles, resjsonPath, taskDirs } from '../../scripts/loc';
import { ROOT } from '../../scripts/paths';
import { changelogVersion, nextVersion, versionsOf, withSection } from '../../scripts/release';

const RELEASE = join(ROOT, 'out', 'scripts', 'release.js');
/** The repository's CHANGELOG.md may start with an Unreleased summary: then the commits follow it under "### Commits". */
const COMMITS_AFTER_SUMMARY = '(?:[^]*?\\n\\n### Commits\\n\\n)?';
/** What the release reads and writes. */
const FILES = ['package.json', 'package-lock.json', 'vss-extension.json', 'CHANGELOG.md', join('packages', 'mi-token', 'package.json')];

function git(cwd: string, ...args: string[]): string {
  const identity = ['-c', 'user.name=Release Test', '-c', 'user.email=release@example.invalid', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false'];
  return execFileSync('git', [...identity, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A git repository holding the versioned files as they are now, tagged v<version>, with two commits after the tag. */
function scratchRepository(): { dir: string; version: string } {
  const dir = mkdtempSync(join(tmpdir(), 'release-'));
  for (const file of FILES) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    cpSync(join(ROOT, file), join(dir, file));
  }
  for (const task of taskDirs(ROOT)) {
    const to = join(dir, relative(ROOT, task));
    mkdirSync(to, { recursive: true });
    for (const file of ['task.json', 'task.loc.json', 'Strings']) cpSync(join(task, file), join(to, file), { recursive: true });
  }
  const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version as string;
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', `Release ${version}`);
  git(dir, 'tag', `v${version}`);
  writeFileSync(join(dir, 'a.txt'), 'a\n');
  git(dir, 'add', 'a.txt');
  git(dir, 'commit', '-q', '-m', 'Fix the first thing');
  writeFileSync(join(dir, 'b.txt'), 'b\n');
  git(dir, 'add', 'b.txt');
  git(dir, 'commit', '-q', '-m', 'Add the second thing');
  return { dir, version };
}

const release = (dir: string, ...args: string[]) => spawnSync(process.execPath, [RELEASE, ...args, '--root', dir], { encoding: 'utf8' });

describe('npm run release', function () {
  this.timeout(30_000);

  it('counts patch, minor and major from MAJOR.MINOR.PATCH', () => {
    assert.equal(nextVersion('1.2.3', 'patch'), '1.2.4');
    assert.equal(nextVersion('1.2.3', 'minor'), '1.3.0');
    assert.equal(nextVersion('1.2.3', 'major'), '2.0.0');
    assert.throws(() => nextVersion('1.2', 'patch'), /MAJOR\.MINOR\.PATCH/);
  });

  it('puts a new changelog section above the newest one', () => {
    const text = withSection('# Changelog\n\nIntro.\n\n## 1.0.0\n\n- First.\n', '1.0.1', '2026-12-01', ['Fix (abc1234)']);
    assert.equal(text, '# Changelog\n\nIntro.\n\n## 1.0.1 - 2026-12-01\n\n- Fix (abc1234)\n\n## 1.0.0\n\n- First.\n');
  });

  it('turns an Unreleased section into the new one: dated, its summary kept, the commits under it', () => {
    const text = withSection('# Changelog\n\nIntro.\n\n## Unreleased\n\n- **New**: a thing.\n\n## 1.0.0\n\n- First.\n', '1.1.0', '2026-12-01', ['Add a thing (abc1234)']);
    assert.equal(text, '# Changelog\n\nIntro.\n\n## 1.1.0 - 2026-12-01\n\n- **New**: a thing.\n\n### Commits\n\n- Add a thing (abc1234)\n\n## 1.0.0\n\n- First.\n');
  });

  it('bumps every version to the next patch, with a dated changelog section of the commits since the tag and the tasks\' release notes', () => {
    const { dir, version } = scratchRepository();
    const next = nextVersion(version, 'patch');
    const run = release(dir, 'patch', '--date', '2026-12-01');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`git tag v${next.replace(/\./g, '\\.')}`));

    assert.deepEqual(new Set(Object.values(versionsOf(dir))), new Set([next]), JSON.stringify(versionsOf(dir)));
    assert.equal(changelogVersion(dir), next);
    const changelog = readFileSync(join(dir, 'CHANGELOG.md'), 'utf8');
    assert.match(changelog, new RegExp(`^## ${next.replace(/\./g, '\\.')} - 2026-12-01\\n\\n${COMMITS_AFTER_SUMMARY}- Fix the first thing \\([0-9a-f]+\\)\\n- Add the second thing \\([0-9a-f]+\\)\\n\\n## ${version.replace(/\./g, '\\.')}\\b`, 'm'));
    assert.ok(!changelog.includes(`- Release ${version}`), 'the tagged commit is the last release, not a change');

    for (const task of taskDirs(dir)) {
      const text = readFileSync(join(task, 'task.json'), 'utf8');
      const json = JSON.parse(text) as { releaseNotes: string; version: object };
      assert.match(json.releaseNotes, new RegExp(`^Version ${next.replace(/\./g, '\\.')} \\(2026-12-01\\)\\. What changed: https://\\S+/CHANGELOG\\.md$`));
      // task.loc.json and resources.resjson regenerated from it, as npm run loc would.
      const expected = locFiles(text);
      assert.equal(text, expected.taskJson);
      assert.equal(readFileSync(join(task, 'task.loc.json'), 'utf8'), expected.taskLocJson);
      assert.equal(readFileSync(resjsonPath(task), 'utf8'), expected.resjson);
      assert.match(expected.taskLocJson, /"releaseNotes": "ms-resource:loc\.releaseNotes"/);
    }

    // The hand-formatted files keep their layout: one line changes in each, two in the lock.
    const numstat = git(dir, 'diff', '--numstat', '--', 'package.json', 'package-lock.json', 'vss-extension.json', 'packages/mi-token/package.json');
    const changed = Object.fromEntries(numstat.split('\n').map((l) => l.split('\t')).map(([added, removed, file]) => [file, `${added} ${removed}`]));
    assert.deepEqual(changed, { 'package.json': '1 1', 'package-lock.json': '2 2', 'vss-extension.json': '1 1', 'packages/mi-token/package.json': '1 1' }, numstat);
  });

  it('lists the commits since the last version heading of CHANGELOG.md when there is no tag yet (an Unreleased summary is not one), and refuses when nothing changed', () => {
    const { dir, version } = scratchRepository();
    git(dir, 'tag', '-d', `v${version}`);
    const first = release(dir, 'minor', '--date', '2026-12-02');
    assert.equal(first.status, 0, first.stderr);
    assert.match(readFileSync(join(dir, 'CHANGELOG.md'), 'utf8'), new RegExp(`^## \\d+\\.\\d+\\.0 - 2026-12-02\\n\\n${COMMITS_AFTER_SUMMARY}- Fix the first thing \\([0-9a-f]+\\)\\n- Add the second thing \\([0-9a-f]+\\)\\n\\n## `, 'm'));
    git(dir, 'commit', '-q', '-am', 'Release');
    // Writing the next Unreleased summary is not a release: the commit is listed next time.
    const changelog = join(dir, 'CHANGELOG.md');
    writeFileSync(changelog, readFileSync(changelog, 'utf8').replace(/^## /m, '## Unreleased\n\n- **New**: the third thing.\n\n## '));
    git(dir, 'commit', '-q', '-am', 'Changelog: the third thing');
    const third = release(dir, 'patch', '--date', '2026-12-03');
    assert.equal(third.status, 0, third.stderr);
    assert.match(readFileSync(changelog, 'utf8'), /^## \d+\.\d+\.1 - 2026-12-03\n\n- \*\*New\*\*: the third thing\.\n\n### Commits\n\n- Changelog: the third thing \([0-9a-f]+\)\n\n## \d+\.\d+\.0 - 2026-12-02\n/m);
    git(dir, 'commit', '-q', '-am', 'Release again');
    const again = release(dir, 'patch');
    assert.equal(again.status, 1);
    assert.match(again.stderr, /^release: no commit since [0-9a-f]+: nothing to release\n$/);
  });

  it('refuses, changing nothing, when the versions disagree or the bump is not patch, minor or major', () => {
    const { dir } = scratchRepository();
    const vss = join(dir, 'vss-extension.json');
    writeFileSync(vss, readFileSync(vss, 'utf8').replace(/"version": "[^"]+"/, '"version": "9.9.9"'));
    const disagree = release(dir, 'patch');
    assert.equal(disagree.status, 1);
    assert.match(disagree.stderr, /the versions disagree[^]*vss-extension\.json: 9\.9\.9/);
    const usage = release(dir, 'huge');
    assert.equal(usage.status, 1);
    assert.match(usage.stderr, /usage: npm run release -- patch\|minor\|major/);
    assert.equal(git(dir, 'status', '--porcelain'), 'M vss-extension.json');
  });
});
