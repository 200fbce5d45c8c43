/**
 * Bundles each task into one file with esbuild and stages the extension in
 * build/extension: vss-extension.json, overview.md, LICENSE, images/ and, per
 * task, index.js next to task.json, task.loc.json, icon.png and Strings/.
 * The package carries no node_modules.
 * buildCli bundles the mi-token command into packages/mi-token/mi-token.js
 * (that package's "bin"), self-contained, so the npm package needs no
 * dependencies.
 */
import { build, Plugin } from 'esbuild';
import { chmodSync, cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_BIN, ROOT, STAGE, TASK_NAMES } from './paths';

/**
 * Libraries a task loads only on some paths (undici: HTTPS to Entra, ARM,
 * Key Vault, Azure DevOps, a proxy) are bundled
 * into files of their own next to index.js and required from there when
 * first used, so that Node does not compile their ~310 KB on a path that does
 * not need them (the token task on IMDS is Node's start-up plus ~20 ms).
 */
export const LAZY_LIBRARIES: Record<string, string> = {
  undici: 'lib/undici.js',
};

/**
 * What each lazy library's file holds. undici: only what src/core/http.ts and
 * network.ts use (Agent, Client, ProxyAgent, buildConnector, and a
 * dispatcher's request() from undici's api), not its fetch, WebSocket, cache,
 * mocks and interceptors: about 310 KB instead of 530 KB in each task.
 */
const LAZY_CONTENTS: Record<string, string> = {
  undici: `const Dispatcher = require('undici/lib/dispatcher/dispatcher');
Object.assign(Dispatcher.prototype, require('undici/lib/api'));
module.exports = {
  Agent: require('undici/lib/dispatcher/agent'),
  Client: require('undici/lib/dispatcher/client'),
  ProxyAgent: require('undici/lib/dispatcher/proxy-agent'),
  buildConnector: require('undici/lib/core/connect'),
};`,
};
const lazyLibraries: Plugin = {
  name: 'lazy-libraries',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, (args) => ({ path: `./${LAZY_LIBRARIES[args.path]}`, external: true }));
  },
};

/** The entry points of a task: index.ts, post.ts when it has a post-job step, serve.ts when it starts the identity server. */
export function taskEntries(src: string): string[] {
  return ['index.ts', 'post.ts', 'serve.ts'].filter((f) => existsSync(join(src, f)));
}

export async function buildExtension(): Promise<void> {
  rmSync(STAGE, { recursive: true, force: true });
  mkdirSync(STAGE, { recursive: true });
  for (const file of ['vss-extension.json', 'overview.md', 'LICENSE']) cpSync(join(ROOT, file), join(STAGE, file));
  cpSync(join(ROOT, 'images'), join(STAGE, 'images'), { recursive: true });

  for (const task of TASK_NAMES) {
    const src = join(ROOT, 'tasks', task);
    const out = join(STAGE, 'tasks', task);
    mkdirSync(out, { recursive: true });
    const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: true, legalComments: 'linked', logLevel: 'warning' } as const;
    const built = await build({ ...common, entryPoints: taskEntries(src).map((f) => join(src, f)), outdir: out, metafile: true, plugins: [lazyLibraries] });
    const used = new Set(Object.values(built.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path.replace(/^\.\//, ''))));
    for (const [name, file] of Object.entries(LAZY_LIBRARIES)) {
      if (!used.has(file)) continue;
      await build({ ...common, stdin: { contents: LAZY_CONTENTS[name], resolveDir: ROOT }, outfile: join(out, file) });
    }
    for (const file of ['task.json', 'task.loc.json', 'icon.png', 'Strings']) {
      if (!existsSync(join(src, file))) throw new Error(`${task}/${file} is missing: run npm run loc (or scripts/make-icons.mjs).`);
      cpSync(join(src, file), join(out, file), { recursive: true });
    }
  }
}

/** mi-token bundles undici into its one file: the same trimmed undici as the tasks' lib/undici.js. */
const trimmedUndici: Plugin = {
  name: 'trimmed-undici',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: 'undici', namespace: 'trimmed-undici' }));
    b.onLoad({ filter: /.*/, namespace: 'trimmed-undici' }, () => ({ contents: LAZY_CONTENTS.undici, resolveDir: ROOT, loader: 'js' }));
  },
};

export async function buildCli(): Promise<void> {
  await build({
    plugins: [trimmedUndici],
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
