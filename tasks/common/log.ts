/**
 * The one log writer of both tasks. Every line a task prints that may hold a
 * value from outside our own code (a token's claims, anything Azure returns,
 * an input or environment value echoed back, a recorded folder) goes out
 * through here, made inert by the core's one rule (inertLogText): no
 * `##vso[` command or `##[` format in it reaches the agent, no control or
 * bidirectional-override character changes what the log shows.
 */
import * as tl from 'azure-pipelines-task-lib/task';
import { inertLogText } from '../../src/core/log-text';

/** A value from outside, for a line the task composes itself (one that starts with its own `##[section]`, say). */
export function external(value: string): string {
  return inertLogText(value);
}

/** Prints a task message whose arguments may come from outside. */
export function say(key: string, ...args: unknown[]): void {
  console.log(inertLogText(tl.loc(key, ...args)));
}

/** Prints a line that may hold text from outside. */
export function sayLine(line: string): void {
  console.log(inertLogText(line));
}

/** A warning whose text may hold values from outside. */
export function warn(text: string): void {
  tl.warning(inertLogText(text));
}
