/**
 * README.md, overview.md, CHANGELOG.md and packages/mi-token/README.md: every
 * in-page link (`](#…)`) and every link to a heading of README.md leads to a
 * heading, with anchors made as GitHub makes them (the marketplace page links
 * README sections by their GitHub address).
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/paths';

/** GitHub's anchor for a heading: its text, lower case, punctuation dropped, spaces as '-'; repeats get -1, -2, … */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6} (.+)$/.exec(line);
    if (!m) continue;
    const text = m[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/&lt;|&gt;|&amp;/g, '');
    const base = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const REPO_README = 'https://github.com/managed-identity-tasks/azure-pipelines-managed-identity#';

describe('docs: links to headings', () => {
  // '#readme' is GitHub's own anchor for a repository's README.
  const readme = new Set([...anchors(read('README.md')), 'readme']);

  it('makes anchors as GitHub does', () => {
    const a = anchors("# T\n## The job's identity endpoint (`serveIdentity`)\n## ManagedIdentityInfo@1\n### Inputs\n### Inputs\n```\n# not a heading\n```\n");
    assert.deepEqual([...a], ['t', 'the-jobs-identity-endpoint-serveidentity', 'managedidentityinfo1', 'inputs', 'inputs-1']);
  });

  for (const file of ['README.md', 'overview.md', 'CHANGELOG.md', join('packages', 'mi-token', 'README.md')]) {
    it(`${file}: every #anchor it links exists`, () => {
      const text = read(file);
      const own = anchors(text);
      const broken: string[] = [];
      for (const m of text.matchAll(/\]\(#([^)]+)\)/g)) if (!own.has(m[1])) broken.push(`#${m[1]}`);
      for (const m of text.matchAll(/\]\(README\.md#([^)]+)\)/g)) if (!readme.has(m[1])) broken.push(`README.md#${m[1]}`);
      for (const m of text.matchAll(new RegExp(`${REPO_README.replace(/[.#/]/g, '\\$&')}([\\w-]+)`, 'g'))) if (!readme.has(m[1])) broken.push(`${REPO_README}${m[1]}`);
      assert.deepEqual(broken, [], `${file} links to headings that do not exist`);
    });
  }

  it('the task.json help links README headings that exist', () => {
    for (const task of ['ManagedIdentityTokenV1', 'ManagedIdentityInfoV1']) {
      const text = read(join('tasks', task, 'task.json'));
      for (const m of text.matchAll(new RegExp(`${REPO_README.replace(/[.#/]/g, '\\$&')}([\\w-]+)`, 'g'))) assert.ok(readme.has(m[1]), `${task}: #${m[1]}`);
    }
  });
});
