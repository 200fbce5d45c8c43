/**
 * verifyAzureDevOps for the token task: asks the organization who the token
 * is, through the agent's proxy and certificate settings, and fails with
 * advice when the organization does not accept the identity.
 */
import * as tl from 'azure-pipelines-task-lib/task';
import { checkAzureDevOps, DevOpsCheck, DevOpsProblem } from '../../src/core/devops';
import { readAgentNetwork } from '../common/network';
import { external, say } from '../common/log';
import { LocalizedError } from '../common/report';

/** Asks the organization who the token is; fails with advice when it does not accept it. */
export async function verifyAzureDevOps(collectionUri: string, token: string, timeoutSeconds: number): Promise<string> {
  const check: DevOpsCheck = await checkAzureDevOps(collectionUri, token, readAgentNetwork(), Math.min(timeoutSeconds, 60) * 1000);
  if (check.ok) {
    // Both come from the server: neither may carry a ##vso command into the log.
    const who = external(`${check.identity.displayName} (${check.identity.id})`);
    say('DevOpsVerified', collectionUri, who);
    return who;
  }
  const detail = external(check.detail);
  const advice = [PROBLEMS[check.problem](collectionUri, detail), ...check.codes.map((c) => CODES[c]?.()).filter((t) => t !== undefined)];
  if (check.problem !== 'unreachable' && check.problem !== 'noData') advice.push(tl.loc('DevOpsAddUser', collectionUri));
  // The service's IDs stay with the advice: a support case needs them.
  if (check.support) advice.push(tl.loc('SupportDetails', check.support));
  throw new LocalizedError(advice.join(' '));
}

const PROBLEMS: Record<DevOpsProblem, (uri: string, detail: string) => string> = {
  anonymous: (uri, detail) => tl.loc('DevOpsAnonymous', uri, detail),
  unauthorized: (uri, detail) => tl.loc('DevOpsUnauthorized', uri, detail),
  signIn: (uri, detail) => tl.loc('DevOpsSignIn', uri, detail),
  noData: (uri, detail) => tl.loc('DevOpsNoData', uri, detail),
  unreachable: (uri, detail) => tl.loc('DevOpsUnreachable', uri, detail),
};

/** What the error codes Azure DevOps sends mean for a managed identity. */
const CODES: Record<string, (() => string) | undefined> = {
  TF400813: () => tl.loc('DevOpsTF400813'),
  TF401444: () => tl.loc('DevOpsTF401444'),
  VS30063: () => tl.loc('DevOpsVS30063'),
};
