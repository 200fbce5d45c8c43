/**
 * Runs the Azure CLI for the token task: `az login --identity` into a
 * configuration directory of this job, and, in the post-job step, the
 * sign-out and removal of what the login created. az runs through task-lib's
 * tool runner with its output marked external, so no `##vso[` command it
 * prints (a subscription name, an error text) reaches the agent.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import * as tl from 'azure-pipelines-task-lib/task';
import {
  AzAccount,
  azCloudCommands,
  azIdentityUser,
  azLoginArgs,
  AzLoginRecord,
  azLogoutArgs,
  hasIdentityFlags,
  parseAzAccounts,
  parseAzVersion,
  parseLoginRecord,
  selectAccount,
  serializeLoginRecord,
  SubscriptionRef,
  AZ_CUSTOM_CLOUD_NAME,
} from '../../src/core/azcli';
import { childEnv } from '../../src/core/child-env';
import type { Cloud } from '../../src/core/clouds';
import { redactJwts } from '../../src/core/jwt';
import { makePrivate } from '../../src/core/private-path';
import type { IdentitySelector } from '../../src/core/identity';
import { InputError } from '../common/inputs';
import { external, say, warn } from '../common/log';
import { LocalizedError } from '../common/report';

/** The task variable that carries the login record from the task to its post-job step. */
export const AZ_LOGIN_RECORD = 'ManagedIdentityToken.azLogin';
const CONFIG_DIR_PREFIX = 'azure-cli-mi-';

/** The az on PATH, or a bad-input failure that says how to install it. */
export function findAz(): string {
  const az = tl.which('az', false);
  if (!az) throw new InputError(tl.loc('AzNotFound'));
  return az;
}

interface AzRun {
  code: number;
  stdout: string;
}

/**
 * Where az's displayed output goes after task-lib's ##vso filter: whole lines,
 * with anything that looks like a JWT removed (az never prints our token, but
 * a debug or error line could carry its own), then the job log.
 */
class RedactingLog extends Writable {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const end = this.pending.lastIndexOf('\n');
    if (end >= 0) {
      process.stdout.write(redactJwts(this.pending.slice(0, end + 1)));
      this.pending = this.pending.slice(end + 1);
    }
    done();
  }

  /** Writes what is left of an unfinished last line. */
  flushLine(): void {
    this.pending += this.decoder.end();
    if (this.pending) process.stdout.write(`${redactJwts(this.pending)}\n`);
    this.pending = '';
  }
}

/** The longest delay a Node timer takes (a larger one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How long to wait after SIGTERM before SIGKILL, for an az that does not stop. */
const KILL_GRACE_MS = 5000;

/**
 * Runs one az command in the job's configuration directory, for at most
 * timeoutSeconds: a hung az (a network without an answer, a prompt) is
 * stopped and fails with advice instead of holding the job until its timeout.
 */
async function runAz(az: string, args: string[], configDir: string, timeoutSeconds: number, silent = false): Promise<AzRun> {
  const tool = tl.tool(az).arg(args);
  let stdout = '';
  tool.on('stdout', (d: Buffer) => (stdout += d.toString('utf8')));
  const env = childEnv(process.env, { AZURE_CONFIG_DIR: configDir });
  const log = new RedactingLog();
  let timedOut = false;
  let kill: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    tool.killChildProcess('SIGTERM');
    kill = setTimeout(() => tool.killChildProcess('SIGKILL'), KILL_GRACE_MS);
  }, Math.min(timeoutSeconds * 1000, MAX_TIMER_MS));
  try {
    const code = await tool.execAsync({ env, silent, ignoreReturnCode: true, outStream: log, errStream: log, externalOutput: { source: 'childProcess' } });
    if (timedOut) throw new LocalizedError(tl.loc('AzTimedOut', `az ${args.slice(0, 2).join(' ')}`, timeoutSeconds));
    return { code, stdout };
  } finally {
    clearTimeout(timer);
    clearTimeout(kill);
    log.flushLine();
  }
}

async function mustRun(az: string, args: string[], configDir: string, timeoutSeconds: number): Promise<AzRun> {
  const run = await runAz(az, args, configDir, timeoutSeconds);
  if (run.code !== 0) throw new LocalizedError(tl.loc('AzCommandFailed', `az ${args.slice(0, 2).join(' ')}`, run.code));
  return run;
}

export interface AzLoginRequest {
  az: string;
  identity: IdentitySelector;
  cloud: Cloud;
  /** The armAudience input, when given (a Custom cloud's audience; otherwise the CLI reads it from the cloud's metadata). */
  armAudience?: string;
  allowNoSubscriptions: boolean;
  subscription?: SubscriptionRef;
  /** The longest one az command may run. */
  timeoutSeconds: number;
}

export interface AzLoginOutcome {
  configDir: string;
  createdConfigDir: boolean;
  version?: string;
  /** The selected account; undefined only if the CLI printed none. */
  account?: AzAccount;
}

/** The job's Azure CLI configuration directory: AZURE_CONFIG_DIR if set, else a new private one exported for later steps. */
function configDirectory(): { configDir: string; created: boolean } {
  const preset = process.env.AZURE_CONFIG_DIR?.trim();
  if (preset) return { configDir: preset, created: false };
  const temp = tl.getVariable('Agent.TempDirectory') || tmpdir();
  const configDir = mkdtempSync(join(temp, CONFIG_DIR_PREFIX));
  makePrivate(configDir, 'folder');
  tl.setVariable('AZURE_CONFIG_DIR', configDir);
  return { configDir, created: true };
}

export async function azLogin(req: AzLoginRequest): Promise<AzLoginOutcome> {
  const { configDir, created } = configDirectory();
  const record: AzLoginRecord = { configDir, createdConfigDir: created, user: azIdentityUser(req.identity), timeoutSeconds: req.timeoutSeconds };
  // Recorded before the login, so the post-job step cleans up even after a failed one.
  tl.setTaskVariable(AZ_LOGIN_RECORD, serializeLoginRecord(record));
  say(created ? 'AzConfigDirCreated' : 'AzConfigDirKept', configDir);

  const version = parseAzVersion((await runAz(req.az, ['version', '--output', 'json'], configDir, req.timeoutSeconds, true)).stdout);
  say('AzVersion', version ?? '?', hasIdentityFlags(version) ? '--client-id/--object-id/--resource-id' : '--username');

  const customRegistered =
    req.cloud.name === 'Custom' && !created && (await runAz(req.az, ['cloud', 'show', '--name', AZ_CUSTOM_CLOUD_NAME, '--output', 'none'], configDir, req.timeoutSeconds, true)).code === 0;
  for (const args of azCloudCommands(req.cloud, { freshConfigDir: created, armAudience: req.armAudience, customRegistered })) {
    await mustRun(req.az, args, configDir, req.timeoutSeconds);
  }

  const login = await runAz(req.az, azLoginArgs(req.identity, version, req.allowNoSubscriptions), configDir, req.timeoutSeconds);
  if (login.code !== 0) throw new LocalizedError(tl.loc('AzLoginFailed', login.code));
  const accounts = parseAzAccounts(login.stdout);
  let account = selectAccount(accounts, req.subscription);
  if (req.subscription) {
    if (!account) {
      throw new LocalizedError(tl.loc('AzSubscriptionNotFound', external(req.subscription.value), external(accounts.map((a) => `${a.name} (${a.id})`).join(', ') || '-')));
    }
    await mustRun(req.az, ['account', 'set', '--subscription', account.id], configDir, req.timeoutSeconds);
  }
  account ??= accounts[0];
  if (account) say('AzLoggedIn', external(account.name), account.id, account.tenantId);
  return { configDir, createdConfigDir: created, version, account };
}

/** The longest the post-job sign-out may run when the record does not say. */
const CLEANUP_TIMEOUT_SECONDS = 120;

/**
 * The post-job clean-up: sign out, then remove the configuration directory if
 * the task made it. A sign-out that fails or hangs is a warning; the folder is
 * removed all the same. Only a folder that is provably the task's own is
 * removed: recorded as created, named with the task's prefix, directly inside
 * this job's Agent.TempDirectory (or the system temp folder the task fell back on).
 */
export async function azCleanup(): Promise<void> {
  const record = parseLoginRecord(tl.getTaskVariable(AZ_LOGIN_RECORD));
  if (!record) {
    tl.debug('No Azure CLI login to clean up.');
    return;
  }
  const az = tl.which('az', false);
  if (az && existsSync(record.configDir)) {
    try {
      const run = await runAz(az, azLogoutArgs(record), record.configDir, record.timeoutSeconds ?? CLEANUP_TIMEOUT_SECONDS);
      if (run.code === 0) say('AzLoggedOut', record.configDir);
      else warn(tl.loc('AzLogoutFailed', run.code, record.configDir));
    } catch (e) {
      warn(tl.loc('AzCleanupFailed', e instanceof Error ? e.message : String(e)));
    }
  }
  if (record.createdConfigDir && isOwnConfigDir(record.configDir)) {
    rmSync(record.configDir, { recursive: true, force: true });
    say('AzConfigDirRemoved', record.configDir);
  } else if (record.createdConfigDir) {
    warn(tl.loc('AzConfigDirNotRemoved', record.configDir));
  }
}

/** A folder this task made: by its name, directly inside a temporary folder it uses. Never the user's AZURE_CONFIG_DIR. */
function isOwnConfigDir(dir: string): boolean {
  if (!isAbsolute(dir) || !basename(dir).startsWith(CONFIG_DIR_PREFIX)) return false;
  const parents = [tl.getVariable('Agent.TempDirectory'), tmpdir()].filter((p): p is string => !!p).map((p) => resolve(p));
  return parents.includes(dirname(resolve(dir)));
}
