/**
 * The secret scan: every task or command run in the suite is recorded here
 * (stdout, stderr, and the summaries a task attaches) with the emulator that
 * served it, and after the suite a root hook fails the
 * run if any token the emulator minted (or its payload or signature segment)
 * appears in any output outside a ##vso[task.setvariable …;issecret=true]
 * or ##vso[task.setsecret] command. It also fails the run if any line holds a
 * ##vso[ command the task did not mean to write (forgedCommandsIn).
 */
import type { AzureEmulator } from '../../emulator';
import { jwtSecretSegments } from '../../src/core/jwt';

export interface Recorded {
  label: string;
  text: string;
  /** False for what the agent does not read for commands (an attached summary): only scanned for tokens. */
  log?: boolean;
}

const outputs: Recorded[] = [];
const emulators = new Set<AzureEmulator>();

export function recordOutput(label: string, text: string, emu?: AzureEmulator, log = true): void {
  outputs.push({ label, text, log });
  if (emu) emulators.add(emu);
}

export function watchEmulator(emu: AzureEmulator): void {
  emulators.add(emu);
}

const extraTokens: string[] = [];
/** Tokens minted by an emulator in another process. */
export function watchTokens(tokens: string[]): void {
  extraTokens.push(...tokens);
}

/** Output with the commands that may carry a secret taken out. */
export function withoutSecretCommands(text: string): string {
  return text
    .split(/\r?\n/)
    .filter((l) => !/^##vso\[task\.setvariable [^\]]*issecret=true[^\]]*\]/.test(l.trim()) && !/^##vso\[task\.setsecret\]/.test(l.trim()))
    .join('\n');
}

export interface Needle {
  what: string;
  value: string;
}

/** A secret and, when it is a JWT, its payload and signature segments: a tool that prints part of a token leaks it as much. */
export function needlesOf(what: string, secret: string): Needle[] {
  return [{ what, value: secret }, ...jwtSecretSegments(secret).map((value) => ({ what: `a segment of ${what}`, value }))];
}

/** Each output that holds a needle outside the commands that may carry a secret, as "label: what". */
export function leaksIn(outputs: readonly Recorded[], needles: readonly Needle[]): string[] {
  const leaks: string[] = [];
  for (const out of outputs) {
    const text = withoutSecretCommands(out.text);
    for (const n of needles) if (text.includes(n.value)) leaks.push(`${out.label}: ${n.what}`);
  }
  return leaks;
}

/**
 * The commands a task writes through task-lib, in the form task-lib gives them: at the start of a line, a command the
 * tasks use, each property ended by ';'. The agent obeys a ##vso[ anywhere in a line, so any other line with one is a
 * command that came from outside (a claim, a server's text, a child's output) and was not made inert.
 */
const INTENDED_COMMAND = /^##vso\[task\.(setvariable|setsecret|settaskvariable|debug|issue|logissue|complete|addattachment|uploadsummary)(?: (?:[\w.-]+=[^;\]]*;)+)?\]/;

/** Each line of an output that holds a ##vso[ command the task did not mean to write, as "label: line". */
export function forgedCommandsIn(outputs: readonly Recorded[]): string[] {
  const found: string[] = [];
  for (const out of outputs) {
    if (out.log === false) continue;
    for (const line of out.text.split(/\r?\n/)) {
      if (/##vso\[/i.test(line) && !INTENDED_COMMAND.test(line.trimStart())) found.push(`${out.label}: ${line.trim().slice(0, 160)}`);
    }
  }
  return found;
}

export function findForgedCommands(): string[] {
  return forgedCommandsIn(outputs);
}

export function findLeaks(): string[] {
  const needles: Needle[] = [];
  for (const emu of emulators) {
    for (const m of emu.minted) needles.push(...needlesOf(`token ${m.marker}`, m.token));
    // The federated assertion is a JWT too.
    for (const secret of emu.secrets) needles.push(...needlesOf('a host secret (identity header, key or assertion)', secret));
  }
  for (const token of extraTokens) needles.push(...needlesOf('a token minted in another process', token));
  return leaksIn(outputs, needles);
}

export function scanCounts(): { outputs: number; tokens: number } {
  let tokens = 0;
  for (const emu of emulators) tokens += emu.minted.length;
  tokens += extraTokens.length;
  return { outputs: outputs.length, tokens };
}
