/**
 * Bundles each task into one file with esbuild and stages the extension in
 * build/extension: vss-extension.json, overview.md, LICENSE, images/ and, per
 * task, index.js next to task.json, task.loc.json, icon.png and Strings/.
 * The package carries no node_modules.
 * buildCli bundles the mi-token command into bin/mi-token.js (package.json
 * "bin"), self-contained, so the npm package needs no dependencies.
 */
import { build } from 'esbuild';
import { chmodSync, cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_BIN, ROOT, STAGE, TASK_NAMES } from './paths';

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

export async function buildCli(): Promise<void> {
  await build({
    entryPoints: [join(ROOT, 'src', 'cli', 'mi-token.ts')],
    outfile: CLI_BIN,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    banner: { js: '#!/usr/bin/env node' },
    legalComments: 'eof',
    logLevel: 'warning',
  });
  chmodSync(CLI_BIN, 0o755);
}

/** The extension and the command: what npm run build, npm run package and npm test need. */
export async function buildAll(): Promise<void> {
  await buildExtension();
  await buildCli();
}

if (require.main === module) {
  buildAll().then(
    () => console.log(`Built ${TASK_NAMES.join(', ')} into ${STAGE}, and ${CLI_BIN}`),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
