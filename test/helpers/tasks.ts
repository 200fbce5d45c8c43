/** Runs the bundled tasks against an emulator and records their output and the summaries they attach for the secret scan. */
import { existsSync, readFileSync } from 'node:fs';
import { runTask, RunTaskOptions, TaskRun } from '../../emulator/agent';
import type { AzureEmulator } from '../../emulator';
import { imdsEnv } from '../../emulator';
import { stagedTask, TaskName } from '../../scripts/paths';
import { recordOutput } from './scan';

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
