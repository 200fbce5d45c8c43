/**
 * Folders the emulator and the agent runner make in the system temp (token
 * files, the certificate, each run's Agent.TempDirectory): removed when the
 * process exits, so the demo, the benchmark and the tests leave nothing behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const folders: string[] = [];

function removeAll(): void {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
}

/** A new folder in the system temp, removed at exit. */
export function tempFolder(prefix: string): string {
  if (!folders.length) process.once('exit', removeAll);
  const folder = mkdtempSync(join(tmpdir(), prefix));
  folders.push(folder);
  return folder;
}
