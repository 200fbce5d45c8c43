/**
 * Removes a folder and everything in it, retrying for a few seconds while
 * the system says it is busy: on Windows a file that a process which is
 * ending still holds open makes removal fail with EBUSY or EPERM (ENOTEMPTY
 * when a file goes away late). The file system and the clock are injected
 * for tests.
 */
import { rmSync } from 'node:fs';

export interface RemoveFolderOptions {
  rm?: (path: string) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** How long to keep trying (default 5 s). */
  retryForMs?: number;
  /** The pause between attempts (default 250 ms). */
  intervalMs?: number;
}

export type RemoveOutcome = { removed: true } | { removed: false; code: string };

const BUSY = new Set(['EBUSY', 'EPERM', 'ENOTEMPTY', 'EACCES']);

/** Removes `dir`; { removed: false, code } when it stayed busy for retryForMs. Any other failure is thrown. */
export async function removeFolder(dir: string, options: RemoveFolderOptions = {}): Promise<RemoveOutcome> {
  const rm = options.rm ?? ((p: string) => rmSync(p, { recursive: true, force: true }));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const until = now() + (options.retryForMs ?? 5000);
  for (;;) {
    try {
      rm(dir);
      return { removed: true };
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (typeof code !== 'string' || !BUSY.has(code)) throw e;
      if (now() >= until) return { removed: false, code };
      await sleep(options.intervalMs ?? 250);
    }
  }
}
