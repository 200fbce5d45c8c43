/**
 * Runs the Azure CLI for the token task: `az login --identity` into a
 * configuration directory of this job, and, in the post-job step, the
 * sign-out and removal of what the login created. az runs as task-lib's
 * ToolRunner would start it, but bounded (src/core/process-tree.ts: its whole
 * process tree is stopped at the limit), and its output goes through the one
 * log writer, so no `##vso[` command it prints reaches the agent.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import * as tl from 'azure-pipelines-task-lib/task';
import {
  AzAccount,
  azCloudCommands,
  azIdentityUser,
  azLoginArgs,
  AzLoginRecord,
  azCleanupCommands,
  azCloudName,
  CONFIG_DIR_MARKER_FILE,
  hasLoginOf,
  parseActiveCloud,
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
import { isJobTempPath, jobTempFolder } from '../common/job-temp';
import { runBounded } from '../../src/core/process-tree';
import { removeFolder } from '../../src/core/remove-folder';
import { external, say, sayLine, warn } from '../common/log';
import { LocalizedError } from '../common/report';

/** The task variable that carries the login record from the task to its post-job step. */
export const AZ_LOGIN_RECORD = 'ManagedIdentityToken.azLogin';
const CONFIG_DIR_PREFIX = 'azure-cli-mi-';
/** A folder mkdtemp made with that prefix (six characters it chose). */
const CONFIG_DIR_NAME = new RegExp(`^${CONFIG_DIR_PREFIX}[A-Za-z0-9]{6}$`);

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
 * Shows a child's output in the job log: whole lines, anything that looks
 * like a JWT removed (az never prints our token, but a debug or error line
 * could carry its own), each line through the one log writer, so no
 * `##vso[` command az prints (a subscription name, an error text) reaches
 * the agent.
 */
class ChildLog {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  write(chunk: Buffer): void {
    this.pending += this.decoder.write(chunk);
    const lines = this.pending.split(/\r?\n/);
    this.pending = lines.pop() ?? '';
    for (const line of lines) sayLine(redactJwts(line));
  }

  /** Writes what is left of an unfinished last line. */
  end(): void {
    this.pending += this.decoder.end();
    if (this.pending) sayLine(redactJwts(this.pending));
    this.pending = '';
  }
}

/**
 * How long az may run: each command at most timeoutSeconds, and all the
 * commands of one sign-in (or one clean-up) together at most timeoutSeconds
 * from its start, so a slow az cannot hold the step much past it. The
 * time-out message says which of the two ended a command.
 */
export interface AzLimits {
  timeoutSeconds: number;
  /** Epoch ms by which every command of this sign-in must have ended. */
  deadline: number;
}

export function azLimits(timeoutSeconds: number, now = Date.now()): AzLimits {
  return { timeoutSeconds, deadline: now + timeoutSeconds * 1000 };
}

/** What task-lib's ToolRunner would spawn for az (on Windows, az.cmd through cmd.exe with its quoting); plain az elsewhere. */
function azCommandLine(az: string, args: string[]): { file: string; args: string[]; windowsVerbatimArguments?: boolean } {
  const tool = tl.tool(az).arg(args) as unknown as {
    _getSpawnFileName?(o: object): string;
    _getSpawnArgs?(o: object): string[];
    _getSpawnOptions?(o: object): { windowsVerbatimArguments?: boolean };
  };
  if (!tool._getSpawnFileName || !tool._getSpawnArgs || !tool._getSpawnOptions) return { file: az, args };
  return { file: tool._getSpawnFileName({}), args: tool._getSpawnArgs({}), windowsVerbatimArguments: tool._getSpawnOptions({}).windowsVerbatimArguments };
}

/**
 * Runs one az command in the job's configuration directory within its
 * limits: a hung az (a network without an answer, a prompt) has its whole
 * process tree stopped and fails with advice that says which limit ended
 * it, instead of holding the job until the job's own timeout.
 */
async function runAz(az: string, args: string[], configDir: string, limits: AzLimits, silent = false): Promise<AzRun> {
  const name = `az ${args.slice(0, 2).join(' ')}`;
  const perCommandMs = limits.timeoutSeconds * 1000;
  const timeoutMs = Math.min(perCommandMs, limits.deadline - Date.now());
  // Cut short by the commands before it (by more than a moment): then it is the sign-in's overall limit that ends it.
  const overall = timeoutMs < perCommandMs - 1000;
  const timedOut = () =>
    new LocalizedError(
      overall ? tl.loc('AzTimedOutOverall', name, Math.max(0, Math.round(timeoutMs / 1000)), limits.timeoutSeconds) : tl.loc('AzTimedOut', name, limits.timeoutSeconds),
    );
  if (timeoutMs <= 0) throw timedOut();
  const env = childEnv(process.env, { AZURE_CONFIG_DIR: configDir });
  const line = azCommandLine(az, args);
  if (!silent) sayLine(`[command]${az} ${args.join(' ')}`);
  const out = new ChildLog();
  const err = new ChildLog();
  const stdout: Buffer[] = [];
  let size = 0;
  const result = await runBounded({
    ...line,
    env,
    timeoutMs,
    onStdout: (d) => {
      // Kept for the JSON it holds (az login's accounts), up to a bound no real answer reaches.
      if ((size += d.length) <= MAX_AZ_OUTPUT) stdout.push(d);
      if (!silent) out.write(d);
    },
    onStderr: (d) => {
      if (!silent) err.write(d);
    },
  });
  out.end();
  err.end();
  if (result.error) throw result.error;
  if (result.timedOut) throw timedOut();
  return { code: result.code ?? 1, stdout: Buffer.concat(stdout).toString('utf8') };
}

/** The most of one az command's output that is kept for reading. */
const MAX_AZ_OUTPUT = 16 * 1024 * 1024;

async function mustRun(az: string, args: string[], configDir: string, limits: AzLimits): Promise<AzRun> {
  const run = await runAz(az, args, configDir, limits);
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

/**
 * The job's Azure CLI configuration directory: AZURE_CONFIG_DIR if set, else
 * a new private one exported for later steps, with a marker file holding a
 * random value that the record carries: the proof, for the post-job step,
 * that the folder is the one this task made in this job.
 */
function configDirectory(): { configDir: string; created: boolean; marker?: string } {
  const preset = process.env.AZURE_CONFIG_DIR?.trim();
  if (preset) return { configDir: preset, created: false };
  const configDir = mkdtempSync(join(jobTempFolder(), CONFIG_DIR_PREFIX));
  makePrivate(configDir, 'folder');
  const marker = randomBytes(16).toString('hex');
  writeFileSync(join(configDir, CONFIG_DIR_MARKER_FILE), marker, { mode: 0o600, flag: 'wx' });
  tl.setVariable('AZURE_CONFIG_DIR', configDir);
  return { configDir, created: true, marker };
}

export async function azLogin(req: AzLoginRequest): Promise<AzLoginOutcome> {
  const { configDir, created, marker } = configDirectory();
  const user = azIdentityUser(req.identity);
  const record: AzLoginRecord = { configDir, createdConfigDir: created, user, timeoutSeconds: req.timeoutSeconds, marker };
  // Recorded before the login, so the post-job step cleans up even after a failed one.
  tl.setTaskVariable(AZ_LOGIN_RECORD, serializeLoginRecord(record));
  say(created ? 'AzConfigDirCreated' : 'AzConfigDirKept', configDir);

  const limits = azLimits(req.timeoutSeconds);
  if (!created) {
    // The user's folder is left as it is found: what was there before is recorded, before anything changes.
    record.loginExisted = hasLoginOf((await runAz(req.az, ['account', 'list', '--output', 'json'], configDir, limits, true)).stdout, user);
    const active = parseActiveCloud((await runAz(req.az, ['cloud', 'show', '--output', 'json'], configDir, limits, true)).stdout);
    if (active && active !== azCloudName(req.cloud)) record.previousCloud = active;
    tl.setTaskVariable(AZ_LOGIN_RECORD, serializeLoginRecord(record));
  }
  const version = parseAzVersion((await runAz(req.az, ['version', '--output', 'json'], configDir, limits, true)).stdout);
  say('AzVersion', version ?? '?', hasIdentityFlags(version) ? '--client-id/--object-id/--resource-id' : '--username');

  const customRegistered =
    req.cloud.name === 'Custom' && !created && (await runAz(req.az, ['cloud', 'show', '--name', AZ_CUSTOM_CLOUD_NAME, '--output', 'none'], configDir, limits, true)).code === 0;
  for (const args of azCloudCommands(req.cloud, { freshConfigDir: created, armAudience: req.armAudience, customRegistered })) {
    await mustRun(req.az, args, configDir, limits);
  }

  const login = await runAz(req.az, azLoginArgs(req.identity, version, req.allowNoSubscriptions), configDir, limits);
  if (login.code !== 0) throw new LocalizedError(tl.loc('AzLoginFailed', login.code));
  const accounts = parseAzAccounts(login.stdout);
  let account = selectAccount(accounts, req.subscription);
  if (req.subscription) {
    if (!account) {
      throw new LocalizedError(tl.loc('AzSubscriptionNotFound', external(req.subscription.value), external(accounts.map((a) => `${a.name} (${a.id})`).join(', ') || '-')));
    }
    await mustRun(req.az, ['account', 'set', '--subscription', account.id], configDir, limits);
  }
  account ??= accounts[0];
  if (account) say('AzLoggedIn', external(account.name), account.id, account.tenantId);
  return { configDir, createdConfigDir: created, version, account };
}

/** The longest the post-job sign-out may run when the record does not say. */
const CLEANUP_TIMEOUT_SECONDS = 120;

/**
 * The post-job clean-up. The record is a task variable: it is trusted only as
 * far as it can be checked. A folder the task made is cleared and removed
 * only when it provably is that folder (see isOwnConfigDir); in the user's
 * own AZURE_CONFIG_DIR (the one this job still has) the task signs out only a
 * login it added and restores the cloud it changed. A sign-out that fails or
 * hangs is a warning; the folder is removed all the same.
 */
export async function azCleanup(): Promise<void> {
  const record = parseLoginRecord(tl.getTaskVariable(AZ_LOGIN_RECORD));
  if (!record) {
    tl.debug('No Azure CLI login to clean up.');
    return;
  }
  if (record.createdConfigDir && !isOwnConfigDir(record)) {
    warn(tl.loc('AzConfigDirNotRemoved', record.configDir));
    return;
  }
  const preset = process.env.AZURE_CONFIG_DIR?.trim();
  if (!record.createdConfigDir && (!preset || resolve(preset) !== resolve(record.configDir))) {
    warn(tl.loc('AzConfigDirNotOurs', record.configDir));
    return;
  }
  const az = tl.which('az', false);
  if (az && existsSync(record.configDir)) {
    const limits = azLimits(record.timeoutSeconds ?? CLEANUP_TIMEOUT_SECONDS);
    try {
      for (const args of azCleanupCommands(record)) {
        const run = await runAz(az, args, record.configDir, limits);
        if (run.code === 0) say(args[0] === 'cloud' ? 'AzCloudRestored' : 'AzLoggedOut', args[0] === 'cloud' ? args[3] : record.configDir);
        else warn(tl.loc('AzLogoutFailed', run.code, record.configDir));
      }
    } catch (e) {
      warn(tl.loc('AzCleanupFailed', e instanceof Error ? e.message : String(e)));
    }
  }
  if (record.createdConfigDir) {
    const removed = await removeFolder(record.configDir);
    if (removed.removed) say('AzConfigDirRemoved', record.configDir);
    else warn(tl.loc('AzConfigDirBusy', record.configDir, removed.code));
  }
}

/**
 * A folder this task made in this job: named with its prefix, directly inside
 * Agent.TempDirectory (the system temp folder only when the agent gives none),
 * and holding the marker file (a regular file, not a link) with the record's
 * random value. Never the user's AZURE_CONFIG_DIR, another job's folder, `/` or `$HOME`.
 */
function isOwnConfigDir(record: AzLoginRecord): boolean {
  const dir = record.configDir;
  if (!record.marker || !isJobTempPath(dir, CONFIG_DIR_NAME)) return false;
  const file = join(dir, CONFIG_DIR_MARKER_FILE);
  try {
    return lstatSync(dir).isDirectory() && lstatSync(file).isFile() && readFileSync(file, 'utf8') === record.marker;
  } catch {
    return false;
  }
}
