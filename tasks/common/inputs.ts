/**
 * Input parsing and identity selection shared by both tasks. Everything is
 * validated here, before any request is sent, and every failure names the
 * input and the fix.
 */
import * as tl from 'azure-pipelines-task-lib/task';
import { Cloud, CLOUDS, customCloud, isCloudName } from '../../src/core/clouds';
import { IdentityIdType, IdentitySelector, SYSTEM_ASSIGNED, userAssigned } from '../../src/core/identity';
import { IdentitySourceChoice, parseIdentitySource } from '../../src/core/sources/select';
import { parseTimeoutSeconds } from '../../src/core/timeout';
import { checkUrl } from '../../src/core/url';

/** A bad input: the message is already localised. */
export class InputError extends Error {}

export interface IdentityInputs {
  identity: IdentitySelector;
  timeoutSeconds: number;
  /** Which token source: auto (detect from the agent's environment) or one forced. */
  identitySource: IdentitySourceChoice;
}

const ID_TYPES: readonly IdentityIdType[] = ['clientId', 'objectId', 'resourceId'];

export function readIdentityInputs(): IdentityInputs {
  const type = (tl.getInput('identityType') ?? 'systemAssigned').trim();
  let identity: IdentitySelector = SYSTEM_ASSIGNED;
  if (type === 'userAssigned') {
    const idType = (tl.getInput('identityIdType') ?? 'clientId').trim() as IdentityIdType;
    if (!ID_TYPES.includes(idType)) throw new InputError(tl.loc('InputChoiceInvalid', 'identityIdType', idType, ID_TYPES.join(', ')));
    identity = userAssigned(idType, tl.getInput('identityId') ?? '');
  } else if (type !== 'systemAssigned') {
    throw new InputError(tl.loc('InputChoiceInvalid', 'identityType', type, 'systemAssigned, userAssigned'));
  }
  return { identity, timeoutSeconds: readTimeoutSeconds(), identitySource: parseIdentitySource(tl.getInput('identitySource')) };
}

function readTimeoutSeconds(): number {
  return parseTimeoutSeconds(tl.getInput('timeoutSeconds') ?? '');
}

/** Azure Pipelines variable names: letters, digits, '.', '_' and '-'. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Names that are not ours to set, compared as the environment name the agent makes of a variable (upper case,
 * '.' as '_'), so `Agent.TempDirectory` and `AGENT_TEMPDIRECTORY` are one name:
 * - the agent's namespaces: its read-only variables (Constants.Variables.ReadOnlyVariables in
 *   microsoft/azure-pipelines-agent) are all under Agent, Build, Common, Features, Pipeline, Release, System and
 *   Task, and it sets Environment.* and Resources.* too;
 * - the environment the agent and task-lib read: INPUT_ (task inputs), ENDPOINT_ and SECUREFILE_, SECRET_
 *   (secret variables for task-lib), VSTS_ (task variables, process lookup), and PATH;
 * - what these tasks export for later steps: AZURE_CONFIG_DIR, AZURE_DEVOPS_EXT_PAT, ARM_* (Terraform), InfoJsonPath,
 *   and serveIdentity's IDENTITY_ENDPOINT, IDENTITY_HEADER, MSI_ENDPOINT, MSI_SECRET and AZURE_CLIENT_ID.
 * A token in one of these would be made secret, hiding the real value from later steps, or replace what the
 * agent relies on (Agent.TempDirectory). Any other name is fine, SecretToken or Pathfinder included.
 */
const RESERVED_ENV = /^(?:(?:AGENT|BUILD|COMMON|FEATURES|PIPELINE|RELEASE|SYSTEM|TASK|ENVIRONMENT|RESOURCES|INPUT|ENDPOINT|SECUREFILE|SECRET|VSTS|ARM)_.*|PATH|AZURE_CONFIG_DIR|AZURE_DEVOPS_EXT_PAT|INFOJSONPATH|IDENTITY_ENDPOINT|IDENTITY_HEADER|MSI_ENDPOINT|MSI_SECRET|AZURE_CLIENT_ID)$/;

/** Whether the task may set a variable of this name (see RESERVED_ENV). */
export function isUsableVariableName(name: string): boolean {
  return VARIABLE_NAME.test(name) && name.length <= 100 && !RESERVED_ENV.test(name.replace(/\./g, '_').toUpperCase());
}

export function readVariableName(input = 'variableName', fallback = 'ManagedIdentityToken'): string {
  const name = (tl.getInput(input) ?? '').trim() || fallback;
  if (!isUsableVariableName(name)) throw new InputError(tl.loc('VariableNameInvalid', input, name));
  return name;
}

/**
 * The cloud: a preset (AzureCloud, AzureUSGovernment, AzureChinaCloud) or Custom with
 * armEndpoint (a URL) and armAudience (default: the endpoint), for Azure Stack Hub,
 * private endpoints and the emulator.
 */
export function readCloud(): Cloud {
  const name = (tl.getInput('cloud') ?? '').trim() || 'AzureCloud';
  if (!isCloudName(name)) throw new InputError(tl.loc('InputChoiceInvalid', 'cloud', name, 'AzureCloud, AzureUSGovernment, AzureChinaCloud, Custom'));
  if (name !== 'Custom') return CLOUDS[name];
  const endpoint = (tl.getInput('armEndpoint') ?? '').trim();
  // Paths are appended to it: the base-URL rules (no query or fragment), like the endpoint variables'.
  const url = checkUrl(endpoint, { base: true });
  if (typeof url === 'string') throw new InputError(tl.loc('ArmEndpointInvalid', endpoint));
  return customCloud(url.toString(), tl.getInput('armAudience') ?? undefined);
}
