/**
 * Runs a command for at most a given time, and then stops its whole process
 * tree, not only the direct child: Microsoft's Debian/Ubuntu `az` is a bash
 * script that starts Python without `exec`, so stopping the script leaves
 * Python running with the pipes open. On Linux and macOS the command starts
 * in a process group of its own, and the group gets SIGTERM, then SIGKILL
 * after a grace period; on Windows `taskkill /T /F` ends the tree. Whatever
 * the tree does, the run ends by the time limit plus the grace period: its
 * output stops being read and the pipes are closed on our side. The platform
 * (spawn, kill, OS) is injected, so both branches are tested anywhere.
 */
import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import { system32 } from './private-path';

export interface ProcessHost {
  platform: NodeJS.Platform;
  /** Where SystemRoot is read on Windows (default: this process's environment). */
  env?: NodeJS.ProcessEnv;
  spawn(file: string, args: readonly string[], options: SpawnOptions): ChildProcess;
  /** process.kill: a negative pid signals a process group. */
  kill(pid: number, signal: NodeJS.Signals): void;
}

export const nodeProcessHost: ProcessHost = {
  platform: process.platform,
  spawn: (file, args, options) => spawn(file, args, options),
  kill: (pid, signal) => process.kill(pid, signal),
};

export interface BoundedCommand {
  file: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Windows: pass the arguments as they are (a .cmd run through cmd.exe /S /C "…"). */
  windowsVerbatimArguments?: boolean;
  /** The longest the command may run. */
  timeoutMs: number;
  /** After SIGTERM, how long the tree has before SIGKILL and before the run ends regardless (default 3 s). */
  graceMs?: number;
  /** After the command itself exits, how long its output may still arrive (a child it left holding the pipes; default 2 s). */
  drainMs?: number;
  onStdout?(chunk: Buffer): void;
  onStderr?(chunk: Buffer): void;
}

export interface BoundedResult {
  /** The exit code, null when the command ended by a signal, was stopped, or did not start. */
  code: number | null;
  /** True when the time limit stopped it. */
  timedOut: boolean;
  /** Why it did not start (ENOENT, EACCES). */
  error?: Error;
}

const DEFAULT_GRACE_MS = 3000;

/** Trees running now on this machine's own host, ended with this process (see endTreesWithProcess). */
const running = new Set<ChildProcess>();
let hooked = false;

/**
 * A tree in a group of its own is not in this process's group: when this process is stopped (the agent cancels
 * the step: SIGINT, then SIGTERM) or ends, its running trees are ended first, then the signal takes its usual course.
 */
function endTreesWithProcess(): void {
  if (hooked || process.platform === 'win32') return;
  hooked = true;
  const endAll = () => {
    for (const child of running) stopProcessTree(child, 'SIGKILL');
    running.clear();
  };
  process.once('exit', endAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      endAll();
      process.kill(process.pid, signal);
    });
  }
}
const DEFAULT_DRAIN_MS = 2000;

/** Signals the whole tree of `pid`: its process group on POSIX, System32's taskkill /T /F on Windows (no TERM there: always forced). */
export function stopProcessTree(child: ChildProcess, signal: 'SIGTERM' | 'SIGKILL', host: ProcessHost = nodeProcessHost): void {
  const pid = child.pid;
  if (pid === undefined) return;
  if (host.platform === 'win32') {
    try {
      // By its full path: Windows looks for a bare name in the current folder (the step's, a repository's) before PATH.
      const killer = host.spawn(system32(host.env ?? process.env, 'taskkill.exe'), ['/T', '/F', '/PID', String(pid)], { stdio: 'ignore', windowsHide: true });
      killer.on('error', () => child.kill());
    } catch {
      child.kill();
    }
    return;
  }
  try {
    host.kill(-pid, signal);
  } catch {
    // The group is gone, or the child is not its leader: signal the child itself.
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Runs `cmd`; the promise settles by timeoutMs + graceMs (plus the drain time when the command exits but its pipes stay open). */
export function runBounded(cmd: BoundedCommand, host: ProcessHost = nodeProcessHost): Promise<BoundedResult> {
  const graceMs = cmd.graceMs ?? DEFAULT_GRACE_MS;
  const drainMs = cmd.drainMs ?? DEFAULT_DRAIN_MS;
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = host.spawn(cmd.file, cmd.args, {
        env: cmd.env,
        cwd: cmd.cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
        // A group of its own on POSIX, so that the whole tree can be signalled.
        detached: host.platform !== 'win32',
        windowsHide: true,
        windowsVerbatimArguments: cmd.windowsVerbatimArguments,
      });
    } catch (e) {
      resolve({ code: null, timedOut: false, error: e instanceof Error ? e : new Error(String(e)) });
      return;
    }
    if (host === nodeProcessHost) {
      endTreesWithProcess();
      running.add(child);
    }
    let timedOut = false;
    let exitCode: number | null = null;
    const timers: NodeJS.Timeout[] = [];
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      running.delete(child);
      for (const t of timers) clearTimeout(t);
      // Stop reading: a grandchild may hold the pipes open for ever.
      child.stdout?.removeAllListeners('data');
      child.stderr?.removeAllListeners('data');
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.unref();
      resolve({ code: timedOut ? null : exitCode, timedOut, error });
    };
    child.stdout?.on('data', (d: Buffer) => cmd.onStdout?.(d));
    child.stderr?.on('data', (d: Buffer) => cmd.onStderr?.(d));
    child.on('error', (e) => finish(e));
    let limit: NodeJS.Timeout | undefined;
    child.on('exit', (code) => {
      exitCode = code;
      if (timedOut) return;
      // The command is done (the limit no longer applies); what it left behind gets the drain time, then the tree is ended and the pipes closed.
      clearTimeout(limit);
      timers.push(
        setTimeout(() => {
          stopProcessTree(child, 'SIGKILL', host);
          finish();
        }, drainMs),
      );
    });
    child.on('close', () => finish());
    limit = setTimeout(() => {
      timedOut = true;
      stopProcessTree(child, 'SIGTERM', host);
      timers.push(
        setTimeout(() => {
          stopProcessTree(child, 'SIGKILL', host);
          finish();
        }, graceMs),
      );
    }, Math.min(cmd.timeoutMs, 2 ** 31 - 1));
    timers.push(limit);
  });
}
