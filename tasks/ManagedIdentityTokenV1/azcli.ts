/**
 * Runs the Azure CLI for the token task: `az login --identity` into a
 * configuration directory of this job, and, in the post-job step, the
 * sign-out and removal of what the login created. az runs through task-lib's
 * tool runner with its output marked external, so no `##vso[` command it
 * prints (a subscription name, an error text) reaches the agent.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
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
import type { Cloud } from '../../src/core/clouds';
import type { IdentitySelector } from '../../src/core/identity';
import { InputError } from '../common/inputs';
import { external, LocalizedError } from '../common/report';

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

async function runAz(az: string, args: string[], configDir: string, silent = false): Promise<AzRun> {
  const tool = tl.tool(az).arg(args);
  let stdout = '';
  tool.on('stdout', (d: Buffer) => (stdout += d.toString('utf8')));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.AZURE_CONFIG_DIR = configDir;
  const code = await tool.execAsync({ env, silent, ignoreReturnCode: true, externalOutput: { source: 'childProcess' } });
  return { code, stdout };
}

async function mustRun(az: string, args: string[], configDir: string): Promise<AzRun> {
  const run = await runAz(az, args, configDir);
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
  chmodSync(configDir, 0o700);
  tl.setVariable('AZURE_CONFIG_DIR', configDir);
  return { configDir, created: true };
}

export async function azLogin(req: AzLoginRequest): Promise<AzLoginOutcome> {
  const { configDir, created } = configDirectory();
  const record: AzLoginRecord = { configDir, createdConfigDir: created, user: azIdentityUser(req.identity) };
  // Recorded before the login, so the post-job step cleans up even after a failed one.
  tl.setTaskVariable(AZ_LOGIN_RECORD, serializeLoginRecord(record));
  console.log(tl.loc(created ? 'AzConfigDirCreated' : 'AzConfigDirKept', configDir));

  const version = parseAzVersion((await runAz(req.az, ['version', '--output', 'json'], configDir, true)).stdout);
  console.log(tl.loc('AzVersion', version ?? '?', hasIdentityFlags(version) ? '--client-id/--object-id/--resource-id' : '--username'));

  const customRegistered =
    req.cloud.name === 'Custom' && !created && (await runAz(req.az, ['cloud', 'show', '--name', AZ_CUSTOM_CLOUD_NAME, '--output', 'none'], configDir, true)).code === 0;
  for (const args of azCloudCommands(req.cloud, { freshConfigDir: created, armAudience: req.armAudience, customRegistered })) {
    await mustRun(req.az, args, configDir);
  }

  const login = await runAz(req.az, azLoginArgs(req.identity, version, req.allowNoSubscriptions), configDir);
  if (login.code !== 0) throw new LocalizedError(tl.loc('AzLoginFailed', login.code));
  const accounts = parseAzAccounts(login.stdout);
  let account = selectAccount(accounts, req.subscription);
  if (req.subscription) {
    if (!account) {
      throw new LocalizedError(tl.loc('AzSubscriptionNotFound', external(req.subscription.value), external(accounts.map((a) => `${a.name} (${a.id})`).join(', ') || '-')));
    }
    await mustRun(req.az, ['account', 'set', '--subscription', account.id], configDir);
  }
  account ??= accounts[0];
  if (account) console.log(tl.loc('AzLoggedIn', external(account.name), account.id, account.tenantId));
  return { configDir, createdConfigDir: created, version, account };
}

/** The post-job clean-up: sign out, then remove the configuration directory if the task made it. */
export async function azCleanup(): Promise<void> {
  const record = parseLoginRecord(tl.getTaskVariable(AZ_LOGIN_RECORD));
  if (!record) {
    tl.debug('No Azure CLI login to clean up.');
    return;
  }
  const az = tl.which('az', false);
  if (az && existsSync(record.configDir)) {
    const run = await runAz(az, azLogoutArgs(record), record.configDir);
    if (run.code === 0) console.log(tl.loc('AzLoggedOut', record.configDir));
    else tl.warning(tl.loc('AzLogoutFailed', run.code, record.configDir));
  }
  // Only a directory this task made, by its own name: never the user's AZURE_CONFIG_DIR.
  if (record.createdConfigDir && isAbsolute(record.configDir) && basename(record.configDir).startsWith(CONFIG_DIR_PREFIX)) {
    rmSync(record.configDir, { recursive: true, force: true });
    console.log(tl.loc('AzConfigDirRemoved', record.configDir));
  }
}
