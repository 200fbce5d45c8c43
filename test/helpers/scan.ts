/**
 * The secret scan: every task or command run in the suite is recorded here
 * with the emulator that served it, and after the suite a root hook fails the
 * run if any token the emulator minted (or its payload or signature segment)
 * appears in any output outside a ##vso[task.setvariable …;issecret=true]
 * or ##vso[task.setsecret] command.
 */
import type { AzureEmulator } from '../../emulator';
import { jwtSecretSegments } from '../../src/core/jwt';

interface Recorded {
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

export function findLeaks(): string[] {
  const leaks: string[] = [];
  const needles: Array<{ what: string; value: string }> = [];
  for (const emu of emulators) {
    for (const m of emu.minted) {
      needles.push({ what: `token ${m.marker}`, value: m.token });
      for (const seg of jwtSecretSegments(m.token)) needles.push({ what: `a segment of token ${m.marker}`, value: seg });
    }
    for (const secret of emu.secrets) {
      needles.push({ what: 'a host secret (identity header, key or assertion)', value: secret });
      // The federated assertion is a JWT too: a tool that prints part of it leaks it as much.
      for (const seg of jwtSecretSegments(secret)) needles.push({ what: 'a segment of a host secret', value: seg });
    }
  }
  for (const token of extraTokens) {
    needles.push({ what: 'a token minted in another process', value: token });
    for (const seg of jwtSecretSegments(token)) needles.push({ what: 'a segment of a token minted in another process', value: seg });
  }
  for (const out of outputs) {
    const text = withoutSecretCommands(out.text);
    for (const n of needles) if (text.includes(n.value)) leaks.push(`${out.label}: ${n.what}`);
  }
  return leaks;
}

export function scanCounts(): { outputs: number; tokens: number } {
  let tokens = 0;
  for (const emu of emulators) tokens += emu.minted.length;
  tokens += extraTokens.length;
  return { outputs: outputs.length, tokens };
}
