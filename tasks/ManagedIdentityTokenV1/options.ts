/**
 * The token task's options for later tools (Azure CLI, Azure DevOps,
 * Terraform), read and checked before anything is sent: each bad value fails
 * naming the input and the fix.
 */
import * as tl from 'azure-pipelines-task-lib/task';
import { Audience, parseAudience } from '../../src/core/audience';
import { parseSubscription, SubscriptionRef } from '../../src/core/azcli';
import { AZURE_DEVOPS_RESOURCE, Cloud } from '../../src/core/clouds';
import { connectionDataUrl, isDevOpsServicesUrl } from '../../src/core/devops';
import { InputError } from '../common/inputs';
import { warn } from '../common/log';
import { describeFailure } from '../common/report';

export interface ToolOptions {
  /** Output variables too (other jobs and stages can read them). */
  outputVariables: boolean;
  azLogin: boolean;
  /** The armAudience input, when given (a Custom cloud's audience for the Azure CLI). */
  armAudience?: string;
  azAllowNoSubscriptions: boolean;
  azSubscription?: SubscriptionRef;
  azureDevOpsLogin: boolean;
  verifyAzureDevOps: boolean;
  /** The organization to verify against (System.CollectionUri). */
  collectionUri?: string;
  exportTerraformEnv: boolean;
  serveIdentity: boolean;
  /** serveIdentity's allowedAudiences, each parsed like the audience input; undefined when empty or not serving. */
  allowedAudiences?: string[];
}

function flag(name: string): boolean {
  return tl.getBoolInput(name, false);
}

export function readToolOptions(audienceInput: string, audience: Audience, cloud: Cloud): ToolOptions {
  const o: ToolOptions = {
    outputVariables: flag('outputVariables'),
    azLogin: flag('azLogin'),
    armAudience: tl.getInput('armAudience')?.trim() || undefined,
    azAllowNoSubscriptions: flag('azAllowNoSubscriptions'),
    azureDevOpsLogin: flag('azureDevOpsLogin'),
    verifyAzureDevOps: flag('verifyAzureDevOps'),
    exportTerraformEnv: flag('exportTerraformEnv'),
    serveIdentity: flag('serveIdentity'),
  };

  const rawSubscription = tl.getInput('azSubscription') ?? '';
  const subscription = parseSubscription(rawSubscription);
  if (subscription === null) throw new InputError(tl.loc('AzSubscriptionInvalid', rawSubscription.trim()));
  o.azSubscription = subscription;
  if (subscription?.by === 'name' && o.exportTerraformEnv && !o.azLogin) {
    throw new InputError(tl.loc('TerraformSubscriptionName', subscription.value));
  }
  // Not a failure: a classic pipeline keeps a hidden input's value after azLogin is turned off.
  if (subscription && !o.azLogin && !o.exportTerraformEnv) warn(tl.loc('AzSubscriptionUnused', subscription.value));

  for (const input of ['azureDevOpsLogin', 'verifyAzureDevOps'] as const) {
    if (o[input] && audience.resource.toLowerCase() !== AZURE_DEVOPS_RESOURCE) {
      throw new InputError(tl.loc('DevOpsAudienceRequired', input, audienceInput.trim(), AZURE_DEVOPS_RESOURCE));
    }
  }
  const uri = (tl.getVariable('System.CollectionUri') || tl.getVariable('System.TeamFoundationCollectionUri') || '').trim();
  const onServer = onAzureDevOpsServer(uri);
  if (o.verifyAzureDevOps) {
    if (!/^https?:\/\//i.test(uri)) throw new InputError(tl.loc('CollectionUriMissing'));
    if (onServer) throw new InputError(tl.loc('DevOpsServerNoEntra', uri));
    // The token goes there: https only (plain http to loopback aside), refused before any token is asked for.
    connectionDataUrl(uri);
    o.collectionUri = uri;
  }
  if (onServer && audience.resource.toLowerCase() === AZURE_DEVOPS_RESOURCE) warn(tl.loc('DevOpsServerTokenUnusable', uri));
  if (o.serveIdentity) o.allowedAudiences = readAllowedAudiences(cloud);
  return o;
}

/** The allowedAudiences input: one audience a line, each parsed like the audience input; undefined when empty. */
function readAllowedAudiences(cloud: Cloud): string[] | undefined {
  const lines = (tl.getInput('allowedAudiences') ?? '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (!lines.length) return undefined;
  return lines.map((line) => {
    try {
      return parseAudience(line, cloud).resource;
    } catch (e) {
      throw new InputError(`allowedAudiences: ${describeFailure(e)}`);
    }
  });
}

/**
 * Whether this job runs on Azure DevOps Server: the agent's System.ServerType
 * ('Hosted' on Azure DevOps Services, 'OnPremises' on Server), or, where it
 * is not set, a collection URL that is not a Services one.
 */
export function onAzureDevOpsServer(collectionUri: string): boolean {
  const serverType = tl.getVariable('System.ServerType')?.trim();
  if (serverType) return serverType.toLowerCase() !== 'hosted';
  return /^https?:\/\//i.test(collectionUri) && !isDevOpsServicesUrl(collectionUri);
}
