/**
 * Runs the bundled mi-token command as a child process and records its output
 * for the secret scan. stdout legitimately holds the token once (that is the
 * command's job), so stdout is recorded with each minted token taken out
 * once: a second copy, or a copy on stderr, is still a leak. Tests assert
 * stdout exactly, so the one copy taken out is the expected one.
 */
import { ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { AzureEmulator } from '../../emulator';
import { CLI_BIN } from '../../scripts/paths';
import { recordOutput } from './scan';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** The child's whole environment besides PATH: the tests never inherit identity variables. */
  env?: Record<string, string>;
  /** The emulator that served the run, for the scan. */
  emu?: AzureEmulator;
  /** The node binary (default: this one). */
  node?: string;
  /** The command (default: node <CLI_BIN>). */
  command?: { file: string; args: string[] };
}

export async function runMiToken(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const file = options.command?.file ?? options.node ?? process.execPath;
  const argv = [...(options.command?.args ?? [CLI_BIN]), ...args];
  return startCommand(`mi-token ${args.join(' ')}`, file, argv, options.env ?? {}, options.emu).done;
}

/** Starts a command with PATH and env only; done resolves when it ends, with its output recorded for the scan. */
export function startCommand(
  label: string,
  file: string,
  args: string[],
  env: Record<string, string>,
  emu?: AzureEmulator,
): { child: ChildProcessByStdio<null, Readable, Readable>; done: Promise<CliRun> } {
  const child = spawn(file, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const run = { code, stdout, stderr };
      recordCliRun(label, run, emu);
      resolve(run);
    });
  });
  return { child, done };
}

export function recordCliRun(label: string, run: CliRun, emu?: AzureEmulator): void {
  let stdout = run.stdout;
  for (const m of emu?.minted ?? []) stdout = stdout.replace(m.token, '<token>');
  recordOutput(`${label} (stderr)`, run.stderr, emu);
  recordOutput(`${label} (stdout, the expected token taken out once)`, stdout, emu);
}
