/**
 * The Azure Arc agent's (himds) identity endpoint: GET
 * …/metadata/identity/oauth2/token?api-version=2020-06-01&resource=… with
 * "Metadata: true". Without a valid "Authorization: Basic <key>" it answers
 * 401 with "WWW-Authenticate: Basic realm=<token folder>/<guid>.key" and
 * writes a fresh key into that file (readable by the owner only); the repeated
 * request with the file's contents gets an IMDS-shaped token, and the key is
 * used up. The token folder is a temporary folder per emulator (arcTestHooks
 * gives it to the core's test hook), or one a test names (setArcAgent).
 * Served at /arc/metadata/identity/oauth2/token (the path is shared with IMDS
 * on a real host).
 *
 * A user-assigned selector is answered as the agent version a test scripts
 * (setArcAgent): a current agent (the default) honours client_id, object_id
 * and msi_res_id (mi_res_id it ignores), echoes the selector it honoured in
 * the answer, and answers 400 "The requested identity was not found" for an
 * identity the machine does not have; a legacy agent ignores every selector
 * and answers with the system-assigned identity (MSAL pull requests
 * microsoft-authentication-library-for-dotnet#6128, -for-java#1057, -for-js#8761).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SourceTestHooks } from '../src/core/sources/types';
import { badRequest, tokenReply } from './imds';
import type { Reply, RequestContext } from './server';
import { AzureEmulator } from './server';
import { tempFolder } from './temp';

export const ARC_TOKEN_ROUTE = 'arc.token';
const PATH = '/arc/metadata/identity/oauth2/token';
const ARC_VERSIONS = new Set(['2019-08-15', '2019-11-01', '2020-06-01', '2021-02-01']);

/** How the emulated Azure Connected Machine agent behaves; every field optional in setArcAgent. */
export interface ArcAgentOptions {
  /** 'current' honours a user-assigned selector; 'legacy' (agents before user-assigned support) ignores it. */
  version: 'current' | 'legacy';
  /** The status of a current agent's "identity not found" answer (400 by default). */
  notFoundStatus: number;
  /** Where the agent writes its key files (by default a temporary folder per emulator). */
  tokenFolder: string;
}

interface ArcState extends ArcAgentOptions {
  /** Key file contents not yet used, by file. */
  keys: Map<string, string>;
  /** The folder its challenges name, when not `tokenFolder` (see arcAnnounceFolder). */
  announced?: string;
}

/** The Arc selectors a current agent honours, and the answer field that echoes each. */
const ARC_SELECTORS = [
  ['client_id', 'clientId'],
  ['object_id', 'objectId'],
  ['msi_res_id', 'resourceId'],
] as const;
const states = new WeakMap<AzureEmulator, ArcState>();

export function registerAzureArc(emu: AzureEmulator): void {
  const state: ArcState = { tokenFolder: tempFolder('azcmagent-tokens-'), version: 'current', notFoundStatus: 400, keys: new Map() };
  states.set(emu, state);
  emu.route(ARC_TOKEN_ROUTE, 'GET', PATH, (ctx) => arcToken(emu, state, ctx));
}

/** IDENTITY_ENDPOINT and IMDS_ENDPOINT pointing at this emulator. */
export function arcEnv(emu: AzureEmulator): Record<string, string> {
  return { IDENTITY_ENDPOINT: `${emu.url}${PATH}`, IMDS_ENDPOINT: emu.url };
}

function stateOf(emu: AzureEmulator): ArcState {
  const state = states.get(emu);
  if (!state) throw new Error('Azure Arc is not registered on this emulator.');
  return state;
}

/** The emulated agent's token folder, where it writes its key files. */
export function arcTokenFolder(emu: AzureEmulator): string {
  return stateOf(emu).tokenFolder;
}

/** Scripts the emulated agent: its version (current or legacy), its not-found status, its token folder. */
export function setArcAgent(emu: AzureEmulator, options: Partial<ArcAgentOptions>): void {
  Object.assign(stateOf(emu), options);
}

/**
 * Makes the emulated agent name another folder in its challenges than the
 * one it writes to: for a client that sees the emulator's folder at the
 * agent's real default (/var/opt/azcmagent/tokens, which msal checks) in a
 * mount namespace of its own.
 */
export function arcAnnounceFolder(emu: AzureEmulator, folder: string): void {
  stateOf(emu).announced = folder;
}

/** The core's test hook that points the Arc token folder at this emulator's. */
export function arcTestHooks(emu: AzureEmulator): SourceTestHooks {
  return { arcTokenFolder: arcTokenFolder(emu) };
}

function challenge(emu: AzureEmulator, state: ArcState): Reply {
  const name = `${randomUUID()}.key`;
  const file = join(state.tokenFolder, name);
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, key, { mode: 0o600 });
  state.keys.set(file, key);
  emu.secrets.push(key);
  return { status: 401, headers: { 'WWW-Authenticate': `Basic realm=${state.announced ? join(state.announced, name) : file}` }, body: { error: 'unauthorized_client', error_description: 'Authorization header with the key file contents is required' } };
}

function arcToken(emu: AzureEmulator, state: ArcState, { url, header }: RequestContext): Reply {
  if (header('metadata') !== 'true') return badRequest('bad_request_102', 'Required metadata header not specified');
  const q = url.searchParams;
  const version = q.get('api-version');
  if (!version || !ARC_VERSIONS.has(version)) return badRequest('invalid_request', `Unsupported api-version ${version ?? ''}`);
  const resource = q.get('resource');
  if (!resource) return badRequest('invalid_request', 'Required audience parameter not specified');
  const presented = /^Basic (.+)$/.exec(header('authorization') ?? '')?.[1];
  const file = [...state.keys].find(([, key]) => key === presented)?.[0];
  if (!file) return challenge(emu, state);
  state.keys.delete(file);
  rmSync(file, { force: true });
  const asked = state.version === 'current' ? ARC_SELECTORS.find(([param]) => q.has(param)) : undefined;
  if (!asked) return tokenReply(emu, resource, {});
  const [param, kind] = asked;
  const reply = tokenReply(emu, resource, { [kind]: q.get(param) ?? '' });
  if (reply.status === 400 && /identity not found/i.test(JSON.stringify(reply.body))) {
    return { status: state.notFoundStatus, body: { error: 'invalid_request', error_description: 'The requested identity was not found' } };
  }
  // The agent echoes the selector it honoured (client_id is in every IMDS-shaped answer already).
  if (reply.status === 200) (reply.body as Record<string, string>)[param] = q.get(param) ?? '';
  return reply;
}
