/**
 * The job's temporary folder, and the one rule by which a post-job step
 * trusts a path its record names: only something this task made in this
 * job. A record is a task variable, so a path in it is believed only when it
 * is absolute, carries a name this task gives (its prefix and random part),
 * and lies directly in Agent.TempDirectory (the system temp folder only when
 * the agent gives none). The caller then checks what it holds.
 */
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import * as tl from 'azure-pipelines-task-lib/task';

/** Agent.TempDirectory, else the system temp folder. */
export function jobTempFolder(): string {
  return tl.getVariable('Agent.TempDirectory') || tmpdir();
}

/** Whether `path` is absolute, its name matches `name`, and it lies directly in the job's temporary folder. */
export function isJobTempPath(path: string, name: RegExp): boolean {
  return isAbsolute(path) && name.test(basename(path)) && dirname(resolve(path)) === resolve(jobTempFolder());
}
