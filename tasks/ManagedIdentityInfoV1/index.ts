/**
 * ManagedIdentityInfo@1: reads the inputs, asks the core what the agent's
 * managed identity is and what it can reach, and shows it: a log section by
 * section, a markdown summary, and (outputJsonPath) everything as JSON.
 * Reads only. A section that fails is a warning (SucceededWithIssues), or
 * with failOnError the task fails.
 */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import * as tl from 'azure-pipelines-task-lib/task';
import { isManagedIdentityError } from '../../src/core/errors';
import { closeHttpAgents } from '../../src/core/http';
import { makePrivate } from '../../src/core/private-path';
import { writeSecretFile } from '../../src/core/secret-file';
import { gatherInfo, InfoReport, parseSections } from '../../src/core/info';
import { parseVaultRefs } from '../../src/core/keyvault';
import { closeNetworkDispatchers } from '../../src/core/network';
import { parseResourceGroup, parseSubscriptionId } from '../../src/core/resources';
import { readCloud, readIdentityInputs } from '../common/inputs';
import { say, warn } from '../common/log';
import { readAgentNetwork } from '../common/network';
import { attachSummary, describeFailure, logRetry, maskToken, runTask } from '../common/report';
import { noteTexts, reportBlocks, summaryMarkdown, writeLog } from './render';

const JSON_VARIABLE = 'InfoJsonPath';

async function main(): Promise<void> {
  tl.setResourcePath(path.join(__dirname, 'task.json'));
  const identityInputs = readIdentityInputs();
  const cloud = readCloud();
  const sections = parseSections(tl.getInput('sections') ?? '');
  const keyVaults = parseVaultRefs(tl.getInput('keyVaultNames') ?? '');
  const outputJsonPath = (tl.getInput('outputJsonPath') ?? '').trim();
  const failOnError = tl.getBoolInput('failOnError', false);

  const network = readAgentNetwork();
  const started = Date.now();
  const report = await gatherInfo({
    token: { ...identityInputs, network, onRetry: logRetry },
    cloud,
    sections,
    subscriptionId: parseSubscriptionId(tl.getInput('subscriptionId') ?? undefined),
    resourceGroup: parseResourceGroup(tl.getInput('resourceGroup') ?? undefined),
    keyVaults,
    listSecretNames: tl.getBoolInput('listSecretNames', false),
    rest: { network, timeoutSeconds: identityInputs.timeoutSeconds, onRetry: logRetry },
    // The tokens never reach the log; masked all the same, with their segments, as the Token task's.
    onToken: maskToken,
  });

  const { blocks, failed } = reportBlocks(report);
  const notes = noteTexts(report);
  for (const note of notes) warn(note);
  writeLog(blocks);
  attachSummary('ManagedIdentityInfo', tl.loc('SummaryTitle'), summaryMarkdown(blocks, notes));
  if (outputJsonPath) writeJson(path.resolve(outputJsonPath), report);

  const ms = Date.now() - started;
  if (failed === 0) tl.setResult(tl.TaskResult.Succeeded, tl.loc('DoneOk', report.sections.length, ms));
  else if (failOnError) tl.setResult(tl.TaskResult.Failed, tl.loc('DoneFailed', failed));
  else tl.setResult(tl.TaskResult.SucceededWithIssues, tl.loc('DoneIssues', failed));
}

/** Everything found, as JSON readable only by the agent's user; errors as their key and advice. */
function writeJson(file: string, report: InfoReport): void {
  const json = JSON.stringify(
    { task: 'ManagedIdentityInfo@1', generatedAt: new Date().toISOString(), ...report, notes: noteTexts(report) },
    (_key, value: unknown) => (value instanceof Error ? { error: isManagedIdentityError(value) ? value.key : value.name, message: describeFailure(value) } : value),
    2,
  );
  // Folders the task creates for it are the agent user's alone too.
  const created = mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (created) makePrivate(created, 'folder');
  // A new 0600 file renamed over any old one: never readable by others, never half written.
  writeSecretFile(file, `${json}\n`);
  tl.setVariable(JSON_VARIABLE, file);
  tl.setVariable(JSON_VARIABLE, file, false, true);
  say('JsonWritten', file, JSON_VARIABLE);
}

void runTask(main).finally(() => Promise.all([closeHttpAgents(), closeNetworkDispatchers()]));
