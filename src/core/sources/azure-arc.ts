/**
 * Azure Arc-enabled servers (the himds agent): IDENTITY_ENDPOINT and
 * IMDS_ENDPOINT, or the agent installed. GET …?api-version=2020-06-01&resource=…
 * with "Metadata: true"; the agent answers 401 with
 * "WWW-Authenticate: Basic realm=<key file>", and the request is repeated with
 * "Authorization: Basic <contents of that file>". A user-assigned identity is
 * selected by client_id, object_id or msi_res_id (agents with user-assigned
 * support honour these; mi_res_id is ignored: MSAL pull requests
 * microsoft-authentication-library-for-java#1057 and -for-js#8761). An older
 * agent ignores the selector and answers with the system-assigned identity, so
 * a user-assigned token is used only when its claims show the identity asked
 * for (confirmsIdentity; MSAL fails closed the same way on the answer's echo).
 *
 * Reading a local file named by a network answer is a security boundary: the
 * path must be a .key file directly inside the agent's token folder (no "..",
 * no link out of the folder) and at most 4096 bytes, or nothing is read or sent.
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { ManagedIdentityError } from '../errors';
import { sanitize } from '../token-response';
import { assertHeaderValue, endpointUrl, isSet, selectorParam, transientStatus } from './common';
import type { SourceTestHooks, TokenSource } from './types';

export const ARC_API_VERSION = '2020-06-01';
export const ARC_DEFAULT_ENDPOINT = 'http://127.0.0.1:40342/metadata/identity/oauth2/token';
export const ARC_KEY_MAX_BYTES = 4096;

/** The path rules of a platform: Windows (drive letters, either slash, any case) or POSIX. */
function pathsOf(platform: NodeJS.Platform = process.platform): { windows: boolean; paths: path.PlatformPath } {
  const windows = platform === 'win32';
  return { windows, paths: windows ? path.win32 : path.posix };
}

export function arcTokenFolder(env: NodeJS.ProcessEnv, hooks: SourceTestHooks): string {
  if (hooks.arcTokenFolder) return hooks.arcTokenFolder;
  const { windows, paths } = pathsOf(hooks.platform);
  return windows ? paths.join(env.ProgramData || 'C:\\ProgramData', 'AzureConnectedMachineAgent', 'Tokens') : '/var/opt/azcmagent/tokens';
}

export function himdsFile(env: NodeJS.ProcessEnv, hooks: SourceTestHooks): string {
  if (hooks.arcHimdsFile) return hooks.arcHimdsFile;
  const { windows, paths } = pathsOf(hooks.platform);
  return windows ? paths.join(env.ProgramFiles || 'C:\\Program Files', 'AzureConnectedMachineAgent', 'himds.exe') : '/opt/azcmagent/bin/himds';
}

function samePath(a: string, b: string, platform: NodeJS.Platform | undefined): boolean {
  const { windows, paths } = pathsOf(platform);
  const norm = (p: string) => paths.resolve(p).replace(/[\\/]+$/, '');
  return windows ? norm(a).toLowerCase() === norm(b).toLowerCase() : norm(a) === norm(b);
}

/**
 * The contents of the key file an Arc challenge names, after checking that it
 * is a .key file directly inside `folder` (also once links are resolved) and
 * no larger than 4096 bytes. Throws a ManagedIdentityError otherwise.
 */
export function readArcKeyFile(realm: string, folder: string, platform?: NodeJS.Platform): string {
  const { paths } = pathsOf(platform);
  // The realm comes from the answer: messages show it on one line, cut short.
  const shown = sanitize(realm).slice(0, 300);
  const refuse = () => new ManagedIdentityError('refused', 'ArcKeyFileRefused', shown, folder);
  const name = paths.basename(realm);
  if (!paths.isAbsolute(realm) || realm.split(/[\\/]/).includes('..') || !/^[^\\/]+\.key$/i.test(name)) throw refuse();
  if (!samePath(paths.dirname(realm), folder, platform)) throw refuse();
  let real: string;
  let realFolder: string;
  try {
    real = realpathSync(realm);
    realFolder = realpathSync(folder);
  } catch (e) {
    throw new ManagedIdentityError('refused', 'ArcKeyFileUnreadable', shown, (e as NodeJS.ErrnoException).code ?? String(e));
  }
  if (!samePath(paths.dirname(real), realFolder, platform) || !/\.key$/i.test(real)) throw refuse();

  let fd: number;
  try {
    fd = openSync(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    throw new ManagedIdentityError('refused', 'ArcKeyFileUnreadable', shown, (e as NodeJS.ErrnoException).code ?? String(e));
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw refuse();
    if (stat.size > ARC_KEY_MAX_BYTES) throw new ManagedIdentityError('refused', 'ArcKeyFileTooLarge', shown, stat.size, ARC_KEY_MAX_BYTES);
    const buf = Buffer.alloc(ARC_KEY_MAX_BYTES + 1);
    const n = readSync(fd, buf, 0, buf.length, 0);
    if (n > ARC_KEY_MAX_BYTES) throw new ManagedIdentityError('refused', 'ArcKeyFileTooLarge', shown, n, ARC_KEY_MAX_BYTES);
    const key = buf.subarray(0, n).toString('utf8').trim();
    assertHeaderValue(key, `The Azure Arc key file '${shown}'`, 'refused');
    return key;
  } finally {
    closeSync(fd);
  }
}

export const azureArcSource: TokenSource = {
  name: 'azureArc',
  label: 'Azure Arc (himds)',
  detectedBy: 'IDENTITY_ENDPOINT and IMDS_ENDPOINT, or the Azure Connected Machine agent (himds)',
  detect: ({ env, hooks }) => (isSet(env.IDENTITY_ENDPOINT) && isSet(env.IMDS_ENDPOINT)) || existsSync(himdsFile(env, hooks)),
  probe: false,
  confirmsIdentity: true,
  retryStatus: transientStatus,
  request({ resource, identity, env }) {
    const param = selectorParam(this.label, identity, { clientId: 'client_id', objectId: 'object_id', resourceId: 'msi_res_id' });
    const url = isSet(env.IDENTITY_ENDPOINT) && isSet(env.IMDS_ENDPOINT) ? endpointUrl(env, 'IDENTITY_ENDPOINT') : new URL(ARC_DEFAULT_ENDPOINT);
    // himds listens on IPv4 loopback; "localhost" may resolve to ::1 first (MSAL does the same).
    if (url.hostname === 'localhost') url.hostname = '127.0.0.1';
    url.searchParams.set('api-version', ARC_API_VERSION);
    url.searchParams.set('resource', resource);
    if (param) url.searchParams.set(...param);
    return { http: { url: url.toString(), method: 'GET', headers: { Metadata: 'true' } }, names: identity };
  },
  challenge(res, sent, { env, hooks }) {
    if (res.status !== 401) return undefined;
    const realm = /^\s*Basic\s+realm=(.+)$/i.exec(res.headers['www-authenticate'] ?? '')?.[1]?.trim().replace(/^"(.*)"$/, '$1');
    if (!realm) throw new ManagedIdentityError('badResponse', 'ArcChallengeMissing');
    const key = readArcKeyFile(realm, arcTokenFolder(env, hooks), hooks.platform);
    return { ...sent, headers: { ...sent.headers, Authorization: `Basic ${key}` } };
  },
};
