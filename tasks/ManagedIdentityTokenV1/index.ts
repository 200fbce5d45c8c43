/**
 * ManagedIdentityToken@1: reads the inputs, asks the core for a token, and
 * hands it to later steps as a secret variable (and an output variable),
 * with its expiry and the identity's IDs beside it.
 */
import * as path from 'node:path';
import * as tl from 'azure-pipelines-task-lib/task';
import { acquireToken, TokenResult } from '../../src/core/acquire';
import { describeIdentity } from '../../src/core/identity';
import { describeClaims } from '../../src/core/jwt';
import { closeHttpAgents } from '../../src/core/http';
import { closeNetworkDispatchers } from '../../src/core/network';
import { tokenFacts } from '../../src/core/token-facts';
import { readCloud, readIdentityInputs, readVariableName } from '../common/inputs';
import { readAgentNetwork } from '../common/network';
import { locMessage, logRetry, maskToken, runTask } from '../common/report';

async function main(): Promise<void> {
  tl.setResourcePath(path.join(__dirname, 'task.json'));
  const audience = tl.getInput('audience') ?? '';
  const variableName = readVariableName();
  const { identity, timeoutSeconds, identitySource } = readIdentityInputs();
  const cloud = readCloud();

  const started = Date.now();
  const network = readAgentNetwork();
  const result = await acquireToken({ audience, identity, identitySource, cloud, network, timeoutSeconds, onRetry: logRetry });
  maskToken(result.token);
  console.log(tl.loc('TokenAcquired', result.requestedResource, result.sourceLabel, describeIdentity(result.identity), Date.now() - started));
  showClaims(result);
  for (const w of result.warnings) tl.warning(locMessage(w));
  publish(variableName, result);
  tl.setResult(tl.TaskResult.Succeeded, tl.loc('Done', variableName));
}

function showClaims(result: TokenResult): void {
  if (!result.claims) {
    console.log(tl.loc('TokenNotJwt'));
    return;
  }
  console.log(tl.loc('ClaimsHeader'));
  for (const [name, value] of describeClaims(result.claims)) console.log(`  ${name.padEnd(9)} ${value}`);
}

/** The variables later steps read: the token as a secret, the rest as plain values; each also as an output variable. */
function publish(name: string, result: TokenResult): void {
  const facts = tokenFacts(result);
  const values: Array<[string, string | undefined]> = [
    ['expiresOn', facts.expiresOn],
    ['expiresOnUnix', String(facts.expiresOnUnix)],
    ['tenantId', facts.tenantId],
    ['clientId', facts.clientId],
    ['objectId', facts.objectId],
    ['audience', facts.audience],
  ];
  tl.setVariable(name, result.token, true);
  tl.setVariable(name, result.token, true, true);
  for (const [suffix, value] of values) {
    if (value === undefined) continue;
    tl.setVariable(`${name}.${suffix}`, value);
    tl.setVariable(`${name}.${suffix}`, value, false, true);
  }
  const minutes = Math.round((result.expiresOn.getTime() - Date.now()) / 60000);
  console.log(tl.loc('VariablesSet', name, values.filter(([, v]) => v !== undefined).map(([s]) => `${name}.${s}`).join(', ')));
  console.log(tl.loc('ExpiresOn', result.expiresOn.toISOString(), minutes));
  console.log(tl.loc('UseInScript', name, name.replace(/[.\-\s]/g, '_').toUpperCase()));
}

void runTask(main).finally(() => Promise.all([closeHttpAgents(), closeNetworkDispatchers()]));
