/**
 * The secret scan: every task or command run in the suite is recorded here
 * (stdout, stderr, and the summaries a task attaches) with the emulator that
 * served it, and after the suite a root hook fails the
 * run if any token the emulator minted (or its payload or signature segment)
 * appears in any output outside a ##vso[task.setvariable …;issecret=true]
 * or ##vso[task.setsecret] command.
 */
import type { AzureEmulator } from '../../emulator';
import { jwtSecretSegments } from '../../src/core/jwt';

export interface Recorded {
  label: string;
  text: string;
}

const outputs: Recorded[] = [];
const emulators = new Set<AzureEmulator>();

export function recordOutput(label: string, text: string, emu?: AzureEmulator): void {
  outputs.push({ label, text });
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
