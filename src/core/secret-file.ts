/**
 * Writes a secret to a file so that no reader ever sees it half written or
 * with loose permissions: a new temporary file beside the target, created
 * exclusively with mode 0600 (and set to exactly 0600 whatever the umask),
 * written and flushed, then renamed over the target in one step. On Windows,
 * where a mode means nothing, the empty file is first left to the agent's
 * user alone (see private-path.ts); the rename keeps its access list.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { makePrivate, PRIVATE_FILE_MODE, PrivateHost, SYSTEM_HOST } from './private-path';

export const SECRET_FILE_MODE = PRIVATE_FILE_MODE;

export function writeSecretFile(path: string, content: string, host: PrivateHost = SYSTEM_HOST): void {
  const target = resolve(path);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', SECRET_FILE_MODE);
  try {
    try {
      if (host.platform === 'win32') makePrivate(temp, 'file', host);
      else fchmodSync(fd, SECRET_FILE_MODE);
      const data = Buffer.from(content, 'utf8');
      for (let written = 0; written < data.length; ) written += writeSync(fd, data, written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}
