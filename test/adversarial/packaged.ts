/**
 * The tasks as the agent gets them: unpacked from the built .vsix once per
 * process, and the Node of each handler that is present here (a missing one
 * is skipped loudly, so the suite passes on a machine without it).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTask, RunTaskOptions, TaskRun } from '../../emulator/agent';
import { vsixPath } from '../../scripts/package';
import type { TaskName } from '../../scripts/paths';
import { HANDLER_NODES, handlerNodeMissing, unzip } from '../../scripts/vsix';
import { recordOutput } from '../helpers/scan';

let unpacked: Promise<string> | undefined;

/** The folder of a task from the .vsix. */
export async function packagedTask(name: TaskName): Promise<string> {
  unpacked ??= (async () => {
    const vsix = vsixPath();
    if (!existsSync(vsix)) throw new Error(`${vsix} is missing: npm test builds it with npm run package first.`);
    const dir = mkdtempSync(join(tmpdir(), 'vsix-adversarial-'));
    await unzip(vsix, dir);
    return dir;
  })();
  return join(await unpacked, 'tasks', name);
}

/** The handlers whose Node is here: [handler, node]. A missing one is reported once. */
export const HANDLERS: Array<[string, string]> = HANDLER_NODES.flatMap((h) => {
  const missing = handlerNodeMissing(h);
  if (!missing) return [[h.handler, h.node] as [string, string]];
  console.warn(`    SKIPPED in test/adversarial: ${missing}.`);
  return [];
});

/** Runs a packaged task with no identity variable inherited, and records its output for the secret scan. */
export async function runPackaged(name: TaskName, label: string, options: Omit<RunTaskOptions, 'taskDir'>): Promise<TaskRun> {
  const run = await runTask({ ...options, taskDir: await packagedTask(name) });
  recordOutput(`${name} (packaged) ${label}`, `${run.stdout}\n${run.stderr}`);
  return run;
}
