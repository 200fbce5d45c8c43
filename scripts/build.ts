/**
 * Bundles each task into one file with esbuild and stages the extension in
 * build/extension: vss-extension.json, overview.md, LICENSE, images/ and, per
 * task, index.js next to task.json, task.loc.json, icon.png and Strings/.
 * The package carries no node_modules.
 */
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, STAGE, TASK_NAMES } from './paths';

export async function buildExtension(): Promise<void> {
  rmSync(STAGE, { recursive: true, force: true });
  mkdirSync(STAGE, { recursive: true });
  for (const file of ['vss-extension.json', 'overview.md', 'LICENSE']) cpSync(join(ROOT, file), join(STAGE, file));
  cpSync(join(ROOT, 'images'), join(STAGE, 'images'), { recursive: true });

  for (const task of TASK_NAMES) {
    const src = join(ROOT, 'tasks', task);
    const out = join(STAGE, 'tasks', task);
    mkdirSync(out, { recursive: true });
    await build({
      entryPoints: [join(src, 'index.ts')],
      outfile: join(out, 'index.js'),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: true,
      legalComments: 'linked',
      logLevel: 'warning',
    });
    for (const file of ['task.json', 'task.loc.json', 'icon.png', 'Strings']) {
      if (!existsSync(join(src, file))) throw new Error(`${task}/${file} is missing: run npm run loc (or scripts/make-icons.mjs).`);
      cpSync(join(src, file), join(out, file), { recursive: true });
    }
  }
}

if (require.main === module) {
  buildExtension().then(
    () => console.log(`Built ${TASK_NAMES.join(', ')} into ${STAGE}`),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
