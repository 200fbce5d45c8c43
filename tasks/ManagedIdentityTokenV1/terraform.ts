/**
 * exportTerraformEnv for the token task: sets ARM_* for later steps, finding
 * the subscription where the inputs do not give it.
 */
import * as tl from 'azure-pipelines-task-lib/task';
import type { TokenResult } from '../../src/core/acquire';
import type { Cloud } from '../../src/core/clouds';
import type { IdentitySelector } from '../../src/core/identity';
import { readInstanceMetadata } from '../../src/core/instance';
import { terraformEnv, terraformSubscriptionId } from '../../src/core/terraform';
import type { TokenFacts } from '../../src/core/token-facts';
import { say, warn } from '../common/log';
import type { AzLoginOutcome } from './azcli';
import type { ToolOptions } from './options';
import type { VariableRow } from './summary';

/** Sets ARM_* for Terraform's azurerm provider, finding the subscription where the inputs do not give it. */
export async function exportTerraform(
  options: ToolOptions,
  identity: IdentitySelector,
  cloud: Cloud,
  result: TokenResult,
  facts: TokenFacts,
  login: AzLoginOutcome | undefined,
): Promise<VariableRow[]> {
  let subscriptionId = terraformSubscriptionId(options.azSubscription, login?.account);
  if (!subscriptionId && result.source === 'imds') {
    // Best effort: without it the warning below says what to set.
    subscriptionId = (await readInstanceMetadata({ timeoutSeconds: 10 }).catch(() => undefined))?.subscriptionId || undefined;
    if (subscriptionId) say('TerraformSubscriptionFromImds', subscriptionId);
  }
  if (!subscriptionId) warn(tl.loc('TerraformNoSubscription'));
  const env = terraformEnv({ identity, cloud, clientId: facts.clientId, tenantId: facts.tenantId, subscriptionId, endpoint: result.endpoint });
  for (const [name, value] of env) tl.setVariable(name, value);
  say('TerraformEnvSet', env.map(([n]) => n).join(', '));
  return env.map(([name, value]) => ({ name, secret: false, holds: value }));
}
