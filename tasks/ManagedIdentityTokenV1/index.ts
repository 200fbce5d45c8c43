/**
 * ManagedIdentityToken@1: reads the inputs, asks the core for a token, and
 * hands it to later steps as a secret variable (and, when asked, as output variables),
 * with its expiry and the identity's IDs beside it. On request it also signs
 * in the Azure CLI and the Azure DevOps CLI, checks that Azure DevOps accepts
 * the identity, and sets Terraform's environment; then attaches a summary.
 */
import * as path from 'node:path';
import * as tl from 'azure-pipelines-task-lib/task';
import { acquireToken, TokenResult } from '../../src/core/acquire';
import { parseAudience } from '../../src/core/audience';
import { describeIdentity } from '../../src/core/identity';
import { claimLines } from '../../src/core/jwt';
import { minutesLeft } from '../../src/core/lifetime';
import { closeHttpAgents } from '../../src/core/http';
import { runServerChild } from '../../src/core/identity-server/process';
import { closeNetworkDispatchers } from '../../src/core/network';
import { TokenFacts, tokenFacts } from '../../src/core/token-facts';
import { readCloud, readIdentityInputs, readVariableName } from '../common/inputs';
import { readAgentNetwork } from '../common/network';
import { say, sayLine, warn } from '../common/log';
import { locMessage, logRetry, maskToken, runTask } from '../common/report';
import { azCleanup, azLogin, AzLoginOutcome, findAz } from './azcli';
import { verifyAzureDevOps } from './devops';
import { readToolOptions } from './options';
import { isPostJob, isServe } from './stage';
import { envVariableName, uploadSummary, VariableRow } from './summary';
import { exportTerraform } from './terraform';
import { serveIdentity, stopServedIdentity } from './identity-server';

async function main(): Promise<void> {
  tl.setResourcePath(path.join(__dirname, 'task.json'));
  const audienceInput = tl.getInput('audience') ?? '';
  const variableName = readVariableName();
  const { identity, timeoutSeconds, identitySource } = readIdentityInputs();
  const cloud = readCloud();
  const audience = parseAudience(audienceInput, cloud);
  const options = readToolOptions(audienceInput, audience, cloud);
  const az = options.azLogin ? findAz() : undefined;

  const started = Date.now();
  const network = readAgentNetwork();
  const result = await acquireToken({ audience, identity, identitySource, cloud, network, timeoutSeconds, onRetry: logRetry });
  maskToken(result.token);
  say('TokenAcquired', result.requestedResource, Date.now() - started, result.sourceLabel, describeIdentity(result.identity));
  showClaims(result);
  for (const w of result.warnings) warn(locMessage(w));
  const facts = tokenFacts(result);
  const variables = publish(variableName, result, facts, options.outputVariables);

  let verifiedAs: string | undefined;
  if (options.azureDevOpsLogin) {
    tl.setVariable('AZURE_DEVOPS_EXT_PAT', result.token, true);
    variables.push({ name: 'AZURE_DEVOPS_EXT_PAT', secret: true, holds: tl.loc('HoldsDevOpsPat') });
    say('DevOpsPatSet');
  }
  if (options.verifyAzureDevOps && options.collectionUri) verifiedAs = await verifyAzureDevOps(options.collectionUri, result.token, timeoutSeconds);

  let login: AzLoginOutcome | undefined;
  if (az) {
    login = await azLogin({
      az,
      identity,
      cloud,
      armAudience: options.armAudience,
      allowNoSubscriptions: options.azAllowNoSubscriptions,
      subscription: options.azSubscription,
      timeoutSeconds,
    });
    if (login.createdConfigDir) variables.push({ name: 'AZURE_CONFIG_DIR', secret: false, holds: tl.loc('HoldsAzureConfigDir') });
  }
  if (options.exportTerraformEnv) variables.push(...(await exportTerraform(options, identity, cloud, result, facts, login)));
  // Last: the server takes this step's environment, before the variables it sets for later steps.
  if (options.serveIdentity) {
    const served = { identity, clientId: facts.clientId, objectId: facts.objectId, source: result.source, sourceLabel: result.sourceLabel, cloud, network, timeoutSeconds, allowedAudiences: options.allowedAudiences };
    const rows = await serveIdentity(served);
    // ARM_USE_MSI and ARM_MSI_ENDPOINT replace what exportTerraformEnv set: one row each in the summary.
    variables.splice(0, variables.length, ...variables.filter((v) => !rows.some((r) => r.name === v.name)), ...rows);
  }

  uploadSummary({
    variableName,
    outputVariables: options.outputVariables,
    identity: describeIdentity(result.identity),
    source: result.sourceLabel,
    audience: facts.audience,
    expiresOn: result.expiresOn,
    tenantId: facts.tenantId,
    clientId: facts.clientId,
    objectId: facts.objectId,
    variables,
    azLogin: login && { configDir: login.configDir, subscription: login.account && `${login.account.name} (${login.account.id})` },
    devOps: options.azureDevOpsLogin || verifiedAs ? { exported: options.azureDevOpsLogin, verifiedAs } : undefined,
    terraform: options.exportTerraformEnv,
  });
  tl.setResult(tl.TaskResult.Succeeded, tl.loc('Done', variableName));
}

function showClaims(result: TokenResult): void {
  if (!result.claims) {
    say('TokenNotJwt');
    return;
  }
  say('ClaimsHeader');
  // Claims are the token's own text: a forged one could hold a ##vso[ command or a line break.
  for (const line of claimLines(result.claims)) sayLine(line);
}

/**
 * The variables later steps read: the token as a secret, the rest as plain
 * values; with `crossJob` (the outputVariables input), each also as an output
 * variable that other jobs and stages can read.
 */
function publish(name: string, result: TokenResult, facts: TokenFacts, crossJob: boolean): VariableRow[] {
  const values: Array<[string, string | undefined]> = [
    ['expiresOn', facts.expiresOn],
    ['expiresOnUnix', String(facts.expiresOnUnix)],
    ['tenantId', facts.tenantId],
    ['clientId', facts.clientId],
    ['objectId', facts.objectId],
    ['audience', facts.audience],
  ];
  tl.setVariable(name, result.token, true);
  if (crossJob) tl.setVariable(name, result.token, true, true);
  const rows: VariableRow[] = [{ name, secret: true, holds: tl.loc('HoldsToken') }];
  for (const [suffix, value] of values) {
    if (value === undefined) continue;
    tl.setVariable(`${name}.${suffix}`, value);
    if (crossJob) tl.setVariable(`${name}.${suffix}`, value, false, true);
    rows.push({ name: `${name}.${suffix}`, secret: false, holds: value });
  }
  const minutes = minutesLeft(result.expiresOn, Date.now());
  say('VariablesSet', name, values.filter(([, v]) => v !== undefined).map(([s]) => `${name}.${s}`).join(', '));
  say('ExpiresOn', result.expiresOn.toISOString(), minutes);
  say('UseInScript', name, envVariableName(name));
  return rows;
}

/**
 * The post-job step: signs the Azure CLI out and removes the configuration
 * directory the task created, and stops the identity server (serveIdentity).
 * Does nothing when the task did neither; a clean-up problem is a warning,
 * never a failed job.
 */
async function postJob(): Promise<void> {
  tl.setResourcePath(path.join(__dirname, 'task.json'));
  try {
    await azCleanup();
  } catch (e) {
    warn(tl.loc('AzCleanupFailed', e instanceof Error ? e.message : String(e)));
  }
  try {
    await stopServedIdentity();
  } catch (e) {
    warn(tl.loc('UnexpectedError', e instanceof Error ? e.message : String(e)));
  }
  tl.setResult(tl.TaskResult.Succeeded, tl.loc('CleanupDone'));
}

if (isServe()) runServerChild();
else void (isPostJob() ? postJob() : runTask(main)).finally(() => Promise.all([closeHttpAgents(), closeNetworkDispatchers()]));
