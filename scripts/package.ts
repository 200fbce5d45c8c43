/**
 * Builds dist/<publisher>.<id>-<version>.vsix with tfx-cli, offline.
 * tfx reports task.json problems as warnings: any warning fails the build.
 * The publisher can be overridden: npm run package -- --publisher my-publisher
 * (or PUBLISHER=my-publisher npm run package).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAll } from './build';
import { DIST, ROOT, STAGE } from './paths';

export function vsixPath(publisher?: string): string {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'vss-extension.json'), 'utf8')) as { id: string; version: string; publisher: string };
  return join(DIST, `${publisher ?? manifest.publisher}.${manifest.id}-${manifest.version}.vsix`);
}

export function packageExtension(publisher?: string): string {
  mkdirSync(DIST, { recursive: true });
  const tfx = join(ROOT, 'node_modules', 'tfx-cli', '_build', 'tfx-cli.js');
  const args = [tfx, 'extension', 'create', '--root', STAGE, '--manifest-globs', 'vss-extension.json', '--output-path', DIST, '--no-prompt', '--json'];
  if (publisher) args.push('--publisher', publisher);
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const problems = out.split('\n').filter((l) => /warn|error/i.test(l));
  if (problems.length) throw new Error(`tfx reported problems (treated as errors):\n${problems.join('\n')}`);
  return vsixPath(publisher);
}

if (require.main === module) {
  const i = process.argv.indexOf('--publisher');
  const publisher = i > 0 ? process.argv[i + 1] : process.env.PUBLISHER || undefined;
  buildAll()
    .then(() => console.log(`Packaged ${packageExtension(publisher)}`))
    .catch((e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    });
}
