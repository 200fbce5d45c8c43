/**
 * Makes a file or folder readable and writable by the agent's user alone.
 * POSIX: mode 0600 (file) or 0700 (folder). Windows, where a mode means
 * nothing on NTFS: the inherited entries are removed and the user alone is
 * granted full control, as
 *   icacls <path> /inheritance:r /grant:r *<SID of the user>:(OI)(CI)F
 * (no (OI)(CI) on a file). The user is the SID `whoami /user` prints, else
 * USERDOMAIN\USERNAME. The platform and the program runner are parameters,
 * so the Windows branch is tested on any machine.
 *
 * Callers protect a path before a secret goes into it: an empty file, a new
 * folder. A rename within the folder keeps the file's access list.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import * as path from 'node:path';
import { ManagedIdentityError } from './errors';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_FOLDER_MODE = 0o700;

export interface ProgramRun {
  /** The exit code; null when the program could not start or was stopped. */
  status: number | null;
  /** stdout and stderr together. */
  output: string;
}

export interface PrivateHost {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** Runs a program without a shell and waits for it. */
  run(file: string, args: readonly string[]): ProgramRun;
  chmod(path: string, mode: number): void;
}

/** The longest one icacls or whoami may run. */
const PROGRAM_TIMEOUT_MS = 30_000;

export const SYSTEM_HOST: PrivateHost = {
  platform: process.platform,
  env: process.env,
  run(file, args) {
    const r = spawnSync(file, [...args], { encoding: 'utf8', windowsHide: true, timeout: PROGRAM_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
  },
  chmod: chmodSync,
};

/** A Windows program in System32, by full path: never one a writable folder on PATH offers. */
export function system32(env: NodeJS.ProcessEnv, program: string): string {
  return path.win32.join(env.SystemRoot || env.windir || 'C:\\Windows', 'System32', program);
}

const userCache = new WeakMap<PrivateHost, string>();

/**
 * Who icacls grants access to: `*<SID>` from `whoami /user`, or
 * USERDOMAIN\USERNAME when whoami gives no SID (Wine's whoami prints only the name).
 */
export function windowsUser(host: PrivateHost): string {
  const cached = userCache.get(host);
  if (cached) return cached;
  const whoami = host.run(system32(host.env, 'whoami.exe'), ['/user', '/fo', 'csv', '/nh']);
  const sid = whoami.status === 0 ? /\bS-1-\d+(?:-\d+)+\b/.exec(whoami.output)?.[0] : undefined;
  const name = host.env.USERNAME?.trim();
  const user = sid ? `*${sid}` : name ? (host.env.USERDOMAIN?.trim() ? `${host.env.USERDOMAIN.trim()}\\${name}` : name) : undefined;
  if (!user) throw new ManagedIdentityError('refused', 'PrivateAccessNoUser', whoami.output.trim().slice(0, 200) || `exit ${whoami.status}`);
  userCache.set(host, user);
  return user;
}

/** The icacls arguments that leave `target` to `user` alone. */
export function icaclsArgs(target: string, kind: 'file' | 'folder', user: string): string[] {
  return [target, '/inheritance:r', '/grant:r', `${user}:${kind === 'folder' ? '(OI)(CI)F' : 'F'}`, '/Q'];
}

/**
 * Leaves `target` readable and writable by the agent's user alone, or throws
 * a ManagedIdentityError that names the path and what to check.
 */
export function makePrivate(target: string, kind: 'file' | 'folder', host: PrivateHost = SYSTEM_HOST): void {
  if (host.platform !== 'win32') {
    host.chmod(target, kind === 'folder' ? PRIVATE_FOLDER_MODE : PRIVATE_FILE_MODE);
    return;
  }
  const user = windowsUser(host);
  const r = host.run(system32(host.env, 'icacls.exe'), icaclsArgs(target, kind, user));
  if (r.status !== 0) throw new ManagedIdentityError('refused', 'PrivateAccessFailed', target, user, r.status ?? 'none', r.output.trim().replace(/\s+/g, ' ').slice(0, 300));
}
