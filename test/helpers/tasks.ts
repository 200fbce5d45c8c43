/** Runs the bundled tasks against an emulator and records their output for the secret scan. */
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
  recordOutput(`${task} ${JSON.stringify(options.inputs ?? {})}`, `${run.stdout}\n${run.stderr}`, emu);
  return run;
}

export function runTokenTask(emu: AzureEmulator, inputs: Record<string, string>, options: Omit<RunTaskOptions, 'taskDir' | 'inputs'> = {}) {
  return runStagedTask('ManagedIdentityTokenV1', emu, { ...options, inputs });
}
