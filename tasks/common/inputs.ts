/**
 * Input parsing and identity selection shared by both tasks. Everything is
 * validated here, before any request is sent, and every failure names the
 * input and the fix.
 */
import * as tl from 'azure-pipelines-task-lib/task';
import { ManagedIdentityError } from '../../src/core/errors';
import { IdentityIdType, IdentitySelector, SYSTEM_ASSIGNED, userAssigned } from '../../src/core/identity';

/** A bad input: the message is already localised. */
export class InputError extends Error {}

export interface IdentityInputs {
  identity: IdentitySelector;
  timeoutSeconds: number;
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
  return { identity, timeoutSeconds: readTimeoutSeconds() };
}

function readTimeoutSeconds(): number {
  const raw = (tl.getInput('timeoutSeconds') ?? '').trim() || '120';
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) throw new ManagedIdentityError('badInput', 'TimeoutInvalid', raw);
  return Number(raw);
}

/** Azure Pipelines variable names: letters, digits, '.', '_' and '-'; no reserved prefixes. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const RESERVED = /^(endpoint|input|secret|securefile|path)[._-]?/i;

export function readVariableName(input = 'variableName', fallback = 'ManagedIdentityToken'): string {
  const name = (tl.getInput(input) ?? '').trim() || fallback;
  if (!VARIABLE_NAME.test(name) || name.length > 100 || RESERVED.test(name)) throw new InputError(tl.loc('VariableNameInvalid', input, name));
  return name;
}
