/**
 * One version everywhere: `npm run release -- patch|minor|major` sets the next
 * version in
 *  - package.json and package-lock.json, packages/mi-token/package.json,
 *  - vss-extension.json,
 *  - each task.json (version.Major/Minor/Patch, and releaseNotes), with its
 *    task.loc.json and resources.resjson regenerated (scripts/loc.ts),
 * and adds a dated CHANGELOG.md section listing the commits since the last
 * release: the newest v* tag, or without one the last commit that added or
 * removed a version heading (## x.y.z) in CHANGELOG.md. An "## Unreleased"
 * section at the top (the user-facing summary kept while working) becomes
 * that dated section, with the commits under it.
 * It only changes files; the maintainer reviews, commits and tags (printed).
 * The agent caches a task by its version: without a task version bump a new
 * extension ships no new task code, hence one version for all.
 * Options: --date YYYY-MM-DD (default today, UTC), --root DIR (default the repository).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { taskDirs, updateLocFiles } from './loc';
import { ROOT } from './paths';

export type Bump = 'patch' | 'minor' | 'major';
export const BUMPS: readonly Bump[] = ['patch', 'minor', 'major'];

const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/;

export function nextVersion(version: string, bump: Bump): string {
  const m = SEMVER.exec(version);
  if (!m) throw new Error(`version ${version} is not MAJOR.MINOR.PATCH`);
  const [major, minor, patch] = m.slice(1).map(Number);
  if (bump === 'major') return `${major + 1}.0.0`;
  if (bump === 'minor') return `${major}.${minor + 1}.0`;
  return `${major}.${minor}.${patch + 1}`;
}

interface TaskVersion {
  Major: number;
  Minor: number;
  Patch: number;
}
type Json = Record<string, unknown>;

const readJson = (file: string): Json => JSON.parse(readFileSync(file, 'utf8')) as Json;
const taskVersion = (v: TaskVersion): string => `${v.Major}.${v.Minor}.${v.Patch}`;

/** The files with a version of their own, relative to root. */
function versionedPackageFiles(): string[] {
  return ['package.json', join('packages', 'mi-token', 'package.json'), 'vss-extension.json'];
}

/** Every version the release must keep equal, by where it is written. */
export function versionsOf(root: string): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const file of versionedPackageFiles()) versions[file] = readJson(join(root, file)).version as string;
  const lock = readJson(join(root, 'package-lock.json'));
  versions['package-lock.json'] = lock.version as string;
  versions['package-lock.json packages[""]'] = (lock.packages as Record<string, Json>)[''].version as string;
  for (const dir of taskDirs(root)) {
    for (const file of ['task.json', 'task.loc.json']) {
      versions[relative(root, join(dir, file))] = taskVersion(readJson(join(dir, file)).version as TaskVersion);
    }
  }
  return versions;
}

/** The first changelog section's version (## x.y.z). */
export function changelogVersion(root: string): string | undefined {
  return /^## (\d+\.\d+\.\d+)\b/m.exec(readFileSync(join(root, 'CHANGELOG.md'), 'utf8'))?.[1];
}

/** A task's release notes for this version: where to read what changed. */
export function releaseNotes(root: string, version: string, date: string): string {
  const repo = ((readJson(join(root, 'vss-extension.json')).repository as Json | undefined)?.uri as string | undefined)?.replace(/\.git$/, '');
  const where = repo ? `${repo}/blob/main/CHANGELOG.md` : 'CHANGELOG.md';
  return `Version ${version} (${date}). What changed: ${where}`;
}

const git = (root: string, args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/**
 * Where the last release ends: the newest v* tag reachable from HEAD, else the
 * last commit that added or removed a version heading in CHANGELOG.md (editing
 * the Unreleased section is not a release).
 */
export function lastRelease(root: string): string | undefined {
  try {
    return git(root, ['describe', '--tags', '--abbrev=0', '--match', 'v[0-9]*', 'HEAD']);
  } catch {
    return git(root, ['log', '-1', '--format=%H', '-G', '^## [0-9]', '--', 'CHANGELOG.md']) || undefined;
  }
}

/** The subjects of the commits since the last release, oldest first, merges left out. */
export function changesSince(root: string, since: string | undefined): string[] {
  const range = since ? [`${since}..HEAD`] : ['HEAD'];
  const out = git(root, ['log', '--no-merges', '--reverse', '--format=%s (%h)', ...range]);
  return out ? out.split('\n') : [];
}

const UNRELEASED = /^## Unreleased[^\n]*\n/im;

/**
 * CHANGELOG.md with a new section above the newest one. When the changelog
 * starts with an "## Unreleased" section, that section becomes the new one:
 * its heading dated, its text kept, the commits listed under "### Commits".
 */
export function withSection(changelog: string, version: string, date: string, changes: string[]): string {
  const list = changes.map((c) => `- ${c}`).join('\n');
  const heading = `## ${version} - ${date}\n`;
  const at = changelog.search(/^## /m);
  const unreleased = UNRELEASED.exec(changelog);
  if (unreleased && unreleased.index === at) {
    const bodyStart = at + unreleased[0].length;
    const next = changelog.slice(bodyStart).search(/^## /m);
    const end = next < 0 ? changelog.length : bodyStart + next;
    const body = changelog.slice(bodyStart, end).trim();
    return `${changelog.slice(0, at)}${heading}\n${body ? `${body}\n\n` : ''}### Commits\n\n${list}\n\n${changelog.slice(end)}`.trimEnd() + '\n';
  }
  const section = `${heading}\n${list}\n\n`;
  return at < 0 ? `${changelog.trimEnd()}\n\n${section}` : changelog.slice(0, at) + section + changelog.slice(at);
}

/** The first top-level "version": "…" of a JSON file, replaced in place so the file keeps its layout. */
function setVersionField(file: string, version: string): void {
  const text = readFileSync(file, 'utf8');
  const updated = text.replace(/^(\s{2}"version":\s*")[^"]*(")/m, `$1${version}$2`);
  if (updated === text && !text.includes(`"version": "${version}"`)) throw new Error(`${file}: no top-level "version" field`);
  writeFileSync(file, updated);
}

/** A task.json's version and releaseNotes (after helpMarkDown), then its localisation files regenerated. */
function setTaskVersion(dir: string, version: string, notes: string): void {
  const file = join(dir, 'task.json');
  const task = readJson(file);
  const [Major, Minor, Patch] = version.split('.').map(Number);
  task.version = { Major, Minor, Patch };
  const entries = Object.entries(task).filter(([k]) => k !== 'releaseNotes');
  const after = entries.findIndex(([k]) => k === 'helpMarkDown');
  entries.splice(after + 1, 0, ['releaseNotes', notes]);
  writeFileSync(file, `${JSON.stringify(Object.fromEntries(entries), null, 2)}\n`);
}

export interface Released {
  version: string;
  since: string | undefined;
  changes: string[];
}

/** Bumps every version under root and writes the changelog section; refuses when the versions disagree or nothing changed. */
export function release(root: string, bump: Bump, date: string): Released {
  const versions = versionsOf(root);
  const current = new Set(Object.values(versions));
  if (current.size !== 1) throw new Error(`the versions disagree; make them equal first:\n${Object.entries(versions).map(([f, v]) => `  ${f}: ${v}`).join('\n')}`);
  const [from] = current;
  const version = nextVersion(from, bump);
  const since = lastRelease(root);
  const changes = changesSince(root, since);
  if (!changes.length) throw new Error(`no commit since ${since}: nothing to release`);

  for (const file of versionedPackageFiles()) setVersionField(join(root, file), version);
  const lockFile = join(root, 'package-lock.json');
  const lock = readJson(lockFile);
  lock.version = version;
  (lock.packages as Record<string, Json>)[''].version = version;
  writeFileSync(lockFile, `${JSON.stringify(lock, null, 2)}\n`);
  const notes = releaseNotes(root, version, date);
  for (const dir of taskDirs(root)) setTaskVersion(dir, version, notes);
  updateLocFiles(root);
  const changelog = join(root, 'CHANGELOG.md');
  writeFileSync(changelog, withSection(existsSync(changelog) ? readFileSync(changelog, 'utf8') : '# Changelog\n', version, date, changes));
  return { version, since, changes };
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

if (require.main === module) {
  const bump = process.argv[2] as Bump;
  const date = option('--date') ?? new Date().toISOString().slice(0, 10);
  const root = option('--root') ?? ROOT;
  try {
    if (!BUMPS.includes(bump)) throw new Error('usage: npm run release -- patch|minor|major [--date YYYY-MM-DD]');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`--date ${date}: want YYYY-MM-DD`);
    const { version, since, changes } = release(root, bump, date);
    console.log(`Version ${version} in package.json, package-lock.json, packages/mi-token, vss-extension.json and every task; CHANGELOG.md lists ${changes.length} commit(s) since ${since ?? 'the start'}.`);
    if (bump === 'major') console.log(`A task's major version is its folder (ManagedIdentityTokenV1): a new major needs new task folders beside the old ones, or pipelines that use @1 stop resolving.`);
    console.log(`Next: edit CHANGELOG.md into plain words (the Unreleased summary is now the new section), run npm test, then\n  git commit -am "Release ${version}" && git tag v${version} && git push --follow-tags`);
  } catch (e) {
    console.error(`release: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
