/**
 * Runs the tasks as the agent runs them and records their output and the
 * summaries they attach for the secret scan: the staged bundles against an
 * emulator (runStagedTask), and the tasks from the built .vsix, unpacked once
 * per process (packagedTask, runPackaged), under the Node of each handler that
 * is present here (a missing one is skipped loudly, so the suite passes on a
 * machine without it).
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTask, RunTaskOptions, TaskRun } from '../../emulator/agent';
import type { AzureEmulator } from '../../emulator';
import { imdsEnv } from '../../emulator';
import { vsixPath } from '../../scripts/package';
import { stagedTask, TaskName } from '../../scripts/paths';
import { HANDLER_NODES, HandlerNode, handlerNodeMissing, unzip } from '../../scripts/vsix';
import { recordOutput } from './scan';

let unpacked: Promise<string> | undefined;

/** The built .vsix unpacked (once per process) into a temporary folder, as an agent gets it. */
export function unpackedVsix(): Promise<string> {
  unpacked ??= (async () => {
    const vsix = vsixPath();
    if (!existsSync(vsix)) throw new Error(`${vsix} is missing: npm test builds it with npm run package first.`);
    const dir = mkdtempSync(join(tmpdir(), 'vsix-'));
    await unzip(vsix, dir);
    return dir;
  })();
  return unpacked;
}

/** The folder of a task from the .vsix. */
export async function packagedTask(name: TaskName): Promise<string> {
  return join(await unpackedVsix(), 'tasks', name);
}

/** Skips the test, loudly, when the handler's Node cannot run here (scripts/vsix.ts handlerNodeMissing says why). */
export function requireHandlerNode(test: Mocha.Context, h: HandlerNode): void {
  const missing = handlerNodeMissing(h);
  if (missing) {
    console.warn(`    SKIPPED: ${missing}.`);
    test.skip();
  }
}

/** The handlers whose Node is here: [handler, node]. A missing one is reported once, loudly. */
export const HANDLERS: Array<[string, string]> = HANDLER_NODES.flatMap((h) => {
  const missing = handlerNodeMissing(h);
  if (!missing) return [[h.handler, h.node] as [string, string]];
  console.warn(`    SKIPPED: every packaged-task case under ${h.handler}: ${missing}.`);
  return [];
});

/** Runs a packaged task with no identity variable inherited, and records its output for the secret scan. */
export async function runPackaged(name: TaskName, label: string, options: Omit<RunTaskOptions, 'taskDir'>): Promise<TaskRun> {
  const run = await runTask({ ...options, taskDir: await packagedTask(name) });
  recordOutput(`${name} (packaged) ${label}`, `${run.stdout}\n${run.stderr}`);
  for (const s of run.summaries) recordOutput(`${name} (packaged) ${label} summary '${s.title}'`, summaryText(s.file), undefined, false);
  return run;
}

export async function runStagedTask(
  task: TaskName,
  emu: AzureEmulator,
  options: Omit<RunTaskOptions, 'taskDir'> & { taskDir?: string } = {},
): Promise<TaskRun> {
  const run = await runTask({ ...options, taskDir: options.taskDir ?? stagedTask(task), env: { ...imdsEnv(emu), ...options.env } });
  const label = `${task} ${JSON.stringify(options.inputs ?? {})}`;
  recordOutput(label, `${run.stdout}\n${run.stderr}`, emu);
  // What the run page shows besides the log: every summary the task attached.
  for (const s of run.summaries) recordOutput(`${label} summary '${s.title}'`, summaryText(s.file), emu, false);
  return run;
}

function summaryText(file: string | undefined): string {
  return file && existsSync(file) ? readFileSync(file, 'utf8') : '';
}

export function runTokenTask(emu: AzureEmulator, inputs: Record<string, string>, options: Omit<RunTaskOptions, 'taskDir' | 'inputs'> = {}) {
  return runStagedTask('ManagedIdentityTokenV1', emu, { ...options, inputs });
}

export interface InfoRun extends TaskRun {
  /** The markdown the task uploaded as its summary. */
  summary: string;
}

/** Runs ManagedIdentityInfo@1 with a Custom cloud at the emulator (unless the inputs say otherwise). */
export async function runInfoTask(emu: AzureEmulator, inputs: Record<string, string>, options: Omit<RunTaskOptions, 'taskDir' | 'inputs'> & { taskDir?: string } = {}): Promise<InfoRun> {
  const run = await runStagedTask('ManagedIdentityInfoV1', emu, {
    ...options,
    inputs: { cloud: 'Custom', armEndpoint: emu.url, armAudience: 'https://management.azure.com/', ...inputs },
  });
  return { ...run, summary: summaryText(run.summaries[0]?.file) };
}
