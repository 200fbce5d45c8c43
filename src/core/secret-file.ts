/**
 * Writes a secret to a file so that no reader ever sees it half written or
 * with loose permissions: a new temporary file beside the target, created
 * exclusively with mode 0600 (and set to exactly 0600 whatever the umask),
 * written and flushed, then renamed over the target in one step. The target
 * must be a regular file or a new path: a character device, a FIFO, a socket,
 * a folder or a symbolic link (to /proc/self/fd/1, say) is refused before
 * anything is written, so the secret never goes where the path seems to
 * point or replaces something that is not a file.
 * On Windows, where a mode means nothing, the empty file is first left to
 * the agent's user alone (see private-path.ts); the rename keeps its access list.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, lstatSync, openSync, renameSync, rmSync, Stats, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ManagedIdentityError } from './errors';
import { makePrivate, PRIVATE_FILE_MODE, PrivateHost, SYSTEM_HOST } from './private-path';

export const SECRET_FILE_MODE = PRIVATE_FILE_MODE;

/** What a path is when it is not a regular file, in words; undefined for a regular file or a path that does not exist. */
export function notARegularFile(path: string): string | undefined {
  let stat: Stats;
  try {
    stat = lstatSync(path);
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return undefined;
    throw e;
  }
  if (stat.isFile()) return undefined;
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isSocket()) return 'a socket';
  return stat.isDirectory() ? 'a folder' : 'not a regular file';
}

export function writeSecretFile(path: string, content: string, host: PrivateHost = SYSTEM_HOST): void {
  const target = resolve(path);
  const kind = notARegularFile(target);
  if (kind) throw new ManagedIdentityError('badInput', 'SecretFileNotRegular', target, kind);
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
