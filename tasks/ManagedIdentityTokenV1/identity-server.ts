/**
 * serveIdentity: starts the job's identity server after the token task got
 * its token, sets the managed identity variables later steps' tools read,
 * and in the post-job step stops it and attaches what it served.
 *
 * The header and secret are registered with the agent's masking
 * (task.setsecret) but set as plain variables: a secret variable reaches a
 * script only through an explicit env: mapping, and the point is that every
 * tool in every later step finds the endpoint without any set-up.
 *
 * The post-job step finds the server through a secret task variable (port,
 * process ID, control key), read strictly; it stops it only by proving the
 * key to 127.0.0.1:<port> and believes only an answer that proves it back
 * (control.ts), so a tampered record can neither stop another process nor
 * feed the summary. It never kills by process ID: the agent ends the job's
 * leftover processes in any case.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tl from 'azure-pipelines-task-lib/task';
import type { Cloud } from '../../src/core/clouds';
import { readSelfStopRecord, requestStop } from '../../src/core/identity-server/control';
import { newServerSecret } from '../../src/core/identity-server/guard';
import { ServeConfig, spawnIdentityServer } from '../../src/core/identity-server/process';
import { DEFAULT_IDLE_MS, DEFAULT_LIFETIME_MS, LOOPBACK, normaliseResource } from '../../src/core/identity-server/server';
import type { UsageReport } from '../../src/core/identity-server/usage';
import { describeIdentity, IdentitySelector } from '../../src/core/identity';
import type { NetworkSettings } from '../../src/core/network';
import type { SourceName } from '../../src/core/sources/types';
import { APP_SERVICE_VERSION, serverPaths } from '../../src/core/identity-server/protocols';
import { isJobTempPath, jobTempFolder } from '../common/job-temp';
import { say, warn } from '../common/log';
import { attachSummary, LocalizedError } from '../common/report';
import type { VariableRow } from './summary';

/** The task variable that carries the server's port, process ID and control key to the post-job step. */
export const SERVE_RECORD = 'ManagedIdentityToken.identityServer';

export interface ServeRequest {
  identity: IdentitySelector;
  /** The chosen identity's IDs from its token, so that a tool naming it by another ID shares its cache. */
  clientId?: string;
  objectId?: string;
  source: SourceName;
  /** The source's name for the log: "Azure Instance Metadata Service (IMDS)". */
  sourceLabel: string;
  cloud: Cloud;
  network: NetworkSettings;
  timeoutSeconds: number;
  allowedAudiences?: string[];
}

export async function serveIdentity(req: ServeRequest): Promise<VariableRow[]> {
  const secret = newServerSecret();
  const controlKey = newServerSecret();
  tl.setSecret(secret);
  tl.setSecret(controlKey);
  const aliases: IdentitySelector[] = [];
  if (req.identity.kind !== 'system') {
    if (req.clientId) aliases.push({ kind: 'clientId', id: req.clientId });
    if (req.objectId) aliases.push({ kind: 'objectId', id: req.objectId });
  }
  const config: ServeConfig = {
    secret,
    controlKey,
    chosen: req.identity,
    chosenAliases: aliases,
    upstream: { identitySource: req.source, cloud: req.cloud, network: req.network, timeoutSeconds: req.timeoutSeconds },
    allowedAudiences: req.allowedAudiences?.map(normaliseResource),
    audienceRefusal: tl.loc('ServeAudienceRefused', '%s'),
    idleMs: DEFAULT_IDLE_MS,
    lifetimeMs: DEFAULT_LIFETIME_MS,
  };
  const reportFile = join(jobTempFolder(), `${REPORT_PREFIX}${randomBytes(8).toString('hex')}.json`);
  config.reportFile = reportFile;
  let started: { pid: number; port: number };
  try {
    started = await spawnIdentityServer(process.execPath, join(__dirname, 'serve.js'), config);
  } catch (e) {
    throw new LocalizedError(tl.loc('ServeStartFailed', e instanceof Error ? e.message : String(e)));
  }
  tl.setTaskVariable(SERVE_RECORD, JSON.stringify({ port: started.port, pid: started.pid, key: controlKey, reportFile }), true);
  const base = `http://${LOOPBACK}:${started.port}`;
  const paths = serverPaths(secret);
  const rows: VariableRow[] = [];
  const set = (name: string, value: string, holds: string, secretValue = false) => {
    tl.setVariable(name, value);
    rows.push({ name, secret: secretValue, holds });
  };
  set('IDENTITY_ENDPOINT', `${base}${paths.appService}`, tl.loc('HoldsIdentityEndpoint'));
  set('IDENTITY_HEADER', secret, tl.loc('HoldsIdentitySecret'), true);
  set('MSI_ENDPOINT', `${base}${paths.msiEndpoint}`, tl.loc('HoldsMsiEndpoint'), true);
  set('MSI_SECRET', secret, tl.loc('HoldsIdentitySecret'), true);
  set('ARM_USE_MSI', 'true', tl.loc('HoldsUseMsi'));
  set('ARM_MSI_ENDPOINT', `${base}${paths.imds}`, tl.loc('HoldsImdsEndpoint'), true);
  const clientId = req.identity.kind === 'clientId' ? req.identity.id : req.identity.kind !== 'system' ? req.clientId : undefined;
  if (clientId) set('AZURE_CLIENT_ID', clientId, tl.loc('HoldsClientId'));
  const endpoint = `${base}${paths.appService} (api-version ${APP_SERVICE_VERSION})`;
  say('ServeStarted', endpoint, started.pid, describeIdentity(req.identity), req.sourceLabel, DEFAULT_IDLE_MS / 3600_000, DEFAULT_LIFETIME_MS / 3600_000);
  if (req.allowedAudiences) say('ServeAllowedAudiences', req.allowedAudiences.join(', '));
  say('ServeVariablesSet', rows.map((r) => r.name).join(', '));
  return rows;
}

interface ServeRecord {
  port: number;
  pid: number;
  key: string;
  /** Where the server leaves its signed report if it stops on its own. */
  reportFile?: string;
}

/** The name of the report a server leaves when it stops on its own, before its random part. */
const REPORT_PREFIX = 'ManagedIdentityToken-server-';
const REPORT_NAME = new RegExp(`^${REPORT_PREFIX}[0-9a-f]{16}\\.json$`);
const MAX_REPORT_FILE_BYTES = 256 * 1024;

/** A report file this task named: our prefix and a random part, directly in this job's temporary folder. */
function isOwnReportFile(file: string): boolean {
  return isJobTempPath(file, REPORT_NAME);
}

/** The report a server left when it stopped on its own: read only from our own file, believed only with its proof; the file is removed. */
function selfStopReport(record: ServeRecord): UsageReport | undefined {
  const file = record.reportFile;
  if (!file || !isOwnReportFile(file)) return undefined;
  try {
    const stat = lstatSync(file);
    if (!stat.isFile() || stat.size > MAX_REPORT_FILE_BYTES) return undefined;
    return readSelfStopRecord(record.key, readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  } finally {
    rmSync(file, { force: true });
  }
}

export function parseServeRecord(raw: string): ServeRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const r = v as Partial<ServeRecord>;
  if (!r || typeof r !== 'object') return undefined;
  const ok = Number.isInteger(r.port) && r.port! > 0 && r.port! < 65536 && Number.isInteger(r.pid) && r.pid! > 0 && typeof r.key === 'string' && /^[0-9a-f]{64}$/.test(r.key);
  if (!ok || (r.reportFile !== undefined && typeof r.reportFile !== 'string')) return undefined;
  return { port: r.port!, pid: r.pid!, key: r.key!, reportFile: r.reportFile };
}

/** The post-job part: stop the server this step started, log it, and attach its usage. Never fails the job. */
export async function stopServedIdentity(): Promise<void> {
  const raw = tl.getTaskVariable(SERVE_RECORD);
  if (!raw) return;
  const record = parseServeRecord(raw);
  if (!record) {
    warn(tl.loc('ServeRecordInvalid'));
    return;
  }
  const outcome = await requestStop(record.port, record.key);
  let r: UsageReport;
  if (outcome.stopped) r = outcome.report;
  else {
    const left = outcome.why === 'notRunning' ? selfStopReport(record) : undefined;
    if (!left) {
      if (outcome.why === 'notRunning') say('ServeNotRunning', record.port);
      else warn(tl.loc('ServeNotOurs', record.port, outcome.why));
      return;
    }
    r = left;
  }
  const answers = r.rows.reduce((n, row) => n + row.count, r.otherCount);
  const refused = Object.values(r.refused).reduce((n, c) => n + c, 0);
  if (outcome.stopped) say('ServeStopped', record.pid, record.port, answers, r.upstreamRequests, refused);
  else say('ServeStoppedItself', record.pid, record.port, r.stopReason ?? '-', answers, r.upstreamRequests, refused);
  attachSummary('ManagedIdentityToken-served', tl.loc('ServeSummaryTitle'), serveSummaryMarkdown(r));
}

/** Text from a client, for a markdown table: one line, no pipe, no backtick, inside a code span. */
function code(text: string): string {
  return `\`${text.replace(/[`|\\]/g, ' ').replace(/\s+/g, ' ').trim()}\``;
}

export function serveSummaryMarkdown(r: UsageReport): string {
  const lines = [`### ${tl.loc('ServeSummaryTitle')}`, ''];
  if (!r.rows.length) lines.push(tl.loc('ServeSummaryNone'));
  else {
    lines.push(
      `| ${['ServeSummaryAudience', 'ServeSummaryIdentity', 'ServeSummaryCount', 'ServeSummaryFirst', 'ServeSummaryLast', 'ServeSummaryClients'].map((k) => tl.loc(k)).join(' | ')} |`,
      '| --- | --- | ---: | --- | --- | --- |',
      ...r.rows.map((row) => `| ${code(row.audience)} | ${row.identity.replace(/[|`]/g, ' ')} | ${row.count} | ${row.first} | ${row.last} | ${row.userAgents.map(code).join('<br>')} |`),
    );
  }
  const refused = Object.entries(r.refused);
  if (refused.length) lines.push('', tl.loc('ServeSummaryRefused', refused.map(([k, n]) => `${k} ${n}`).join(', ')));
  lines.push('', tl.loc('ServeSummaryStopped', r.startedAt, r.stopReason ?? '-', r.upstreamRequests));
  return `${lines.join('\n')}\n`;
}
