/**
 * How both tasks say things: core messages through tl.loc, the task result,
 * and a guard that keeps any token out of the log.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import * as tl from 'azure-pipelines-task-lib/task';
import { isManagedIdentityError, ManagedIdentityError } from '../../src/core/errors';
import { inertLogText } from '../../src/core/log-text';
import type { Message } from '../../src/core/messages';
import { jwtSecretSegments } from '../../src/core/jwt';
import { PrivateHost, SYSTEM_HOST } from '../../src/core/private-path';
import { writeSecretFile } from '../../src/core/secret-file';
import type { RetryEvent } from '../../src/core/retry';
import { InputError } from './inputs';
import { jobTempFolder } from './job-temp';
import { sayLine, warn } from './log';

export function locMessage(m: Message): string {
  return tl.loc(m.key, ...m.args);
}

/** Registers a token (and its payload and signature segments) with the agent's log masking. */
export function maskToken(token: string): void {
  tl.setSecret(token);
  for (const segment of jwtSecretSegments(token)) tl.setSecret(segment);
}

export function logRetry(event: RetryEvent & { source: string }): void {
  const text = tl.loc('Retrying', event.attempt, event.source, event.reason, (event.delayMs / 1000).toFixed(1));
  if (event.last) sayLine(text);
  else tl.debug(inertLogText(text));
}

/**
 * Core errors that mean this machine offers no identity of the user's: no
 * endpoint answered, or the endpoint knows no such identity.
 */
const NO_IDENTITY_KEYS: ReadonlySet<string> = new Set(['NoEndpoint', 'IdentityNotFound']);

/**
 * On an agent of an agent cloud (Agent.IsSelfHosted = 0: Microsoft-hosted
 * agents, and possibly Managed DevOps Pools and scale sets, which do have
 * identities) a missing identity gets the ways out that such an agent has.
 * Nothing is refused up front: an agent reporting 0 with an identity works.
 */
export function agentCloudAdvice(e: ManagedIdentityError): string | undefined {
  if (e.kind !== 'noEndpoint' && !NO_IDENTITY_KEYS.has(e.key)) return undefined;
  return tl.getVariable('Agent.IsSelfHosted')?.trim() === '0' ? tl.loc('MicrosoftHostedNoIdentity') : undefined;
}

/** The localised, actionable text of any failure. */
export function describeFailure(e: unknown): string {
  // The service's correlation or request IDs stay with the advice: a support case needs them.
  if (isManagedIdentityError(e)) return [tl.loc(e.key, ...e.args), agentCloudAdvice(e), e.support && tl.loc('SupportDetails', e.support)].filter(Boolean).join(' ');
  if (e instanceof InputError || e instanceof LocalizedError) return e.message;
  return tl.loc('UnexpectedError', e instanceof Error ? e.message : String(e));
}

/** Runs a task body: any failure ends the task Failed with its advice. */
export async function runTask(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    tl.setResult(tl.TaskResult.Failed, inertLogText(describeFailure(e)));
  }
}

/** A failure whose message is already localised and actionable. */
export class LocalizedError extends Error {}

/**
 * Writes a markdown summary under the agent's temporary folder (readable by the
 * agent's user only, a name no other step shares) and attaches it to the run
 * as a summary section titled `title`. (task.uploadsummary would title the
 * section with the file's name, random suffix and all.) The title goes into
 * the attachment's URL on the server: letters, digits, spaces, '.', '_' and
 * '-' only.
 *
 * A summary holds no token: when it cannot be written privately (icacls
 * refused on Windows, a full disk) it is skipped with a warning that says
 * why, and the step goes on; the files that hold secrets stay strict.
 * Returns the file, or undefined when the summary was skipped.
 */
export function attachSummary(namePrefix: string, title: string, markdown: string, host: PrivateHost = SYSTEM_HOST): string | undefined {
  const file = join(jobTempFolder(), `${namePrefix}-${randomUUID().slice(0, 8)}.md`);
  try {
    // A new private file renamed into place: never one another user placed there first (the system temp folder is shared).
    writeSecretFile(file, markdown, host);
  } catch (e) {
    warn(tl.loc('SummarySkipped', title, describeFailure(e)));
    return undefined;
  }
  tl.addAttachment(SUMMARY_ATTACHMENT, summaryTitle(title), file);
  return file;
}

/** The attachment type of a run summary section (what task.uploadsummary uses). */
const SUMMARY_ATTACHMENT = 'Distributedtask.Core.Summary';

function summaryTitle(title: string): string {
  return title.replace(/:/g, ' -').replace(/[^\w .-]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 100) || 'Summary';
}
