/**
 * mi-token: the token engine as a command, for agent start scripts.
 *   ./config.sh --unattended --auth pat --token "$(mi-token)" ...
 * stdout holds the chosen output and nothing else; every message goes to
 * stderr as one line; the exit code says what went wrong (see EXIT).
 */
import { acquireToken, TokenResult } from '../core/acquire';
import type { ErrorKind } from '../core/errors';
import { isManagedIdentityError } from '../core/errors';
import { closeHttpAgents } from '../core/http';
import { closeNetworkDispatchers } from '../core/network';
import { inertLogText } from '../core/log-text';
import { formatMessage, Message } from '../core/messages';
import type { RetryEvent } from '../core/retry';
import { Command, parseCommandLine, TokenCommand, usage, UsageError } from './args';
import { claimsText, fileContent, formatOutput, OutputError } from './output';
import { writeSecretFile } from '../core/secret-file';
import { fstatSync, readFileSync, statSync } from 'node:fs';
import { version } from '../../package.json';

export const EXIT = { ok: 0, failed: 1, usage: 2, noEndpoint: 3, refused: 4, timeout: 5 } as const;

/** hostSetup: the endpoint this machine offers is missing or misconfigured; exit 3 like no endpoint, without the usage, which would only suggest that an option was wrong. */
const EXIT_BY_KIND: Record<ErrorKind, number> = {
  badInput: EXIT.usage,
  hostSetup: EXIT.noEndpoint,
  noEndpoint: EXIT.noEndpoint,
  refused: EXIT.refused,
  badResponse: EXIT.refused,
  timeout: EXIT.timeout,
};

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /** True when stdout was closed (the token would be lost): then the token is not asked for. */
  stdoutGoesNowhere?(): boolean;
}

/** Runs the command; returns the exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  // One inert line each: mi-token may run in a pipeline step, whose stderr the agent reads for ##vso[ commands too.
  const say = (text: string) => io.stderr(`mi-token: ${inertLogText(text.replace(/\s*[\r\n]+\s*/g, ' '))}\n`);
  try {
    const command: Command = parseCommandLine(argv);
    if (command.command === 'help') io.stdout(usage());
    else if (command.command === 'version') io.stdout(`${version}\n`);
    else await getToken(command, io, say);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof UsageError || (isManagedIdentityError(e) && e.kind === 'badInput')) {
      say(e.message);
      io.stderr(`\n${usage()}`);
      return EXIT.usage;
    }
    if (isManagedIdentityError(e)) {
      // Its message: the advice, and the service's support IDs when it gave any.
      say(e.message);
      return EXIT_BY_KIND[e.kind];
    }
    if (e instanceof FileError || e instanceof OutputError) {
      say(e.message);
      return EXIT.failed;
    }
    say(`unexpected error: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.failed;
  } finally {
    await Promise.all([closeHttpAgents(), closeNetworkDispatchers()]);
  }
}

class FileError extends Error {}

async function getToken(command: TokenCommand, io: Io, say: (text: string) => void): Promise<void> {
  if (command.file === undefined && io.stdoutGoesNowhere?.()) {
    throw new FileError('stdout is closed, so the token would be written nowhere. Capture it (TOKEN="$(mi-token)", > file) or use --file.');
  }
  const result: TokenResult = await acquireToken({
    audience: command.audience,
    identity: command.identity,
    identitySource: command.source,
    cloud: command.cloud,
    timeoutSeconds: command.timeoutSeconds,
    env: io.env,
    onRetry: (event: RetryEvent & { source: string }) =>
      say(`attempt ${event.attempt} at ${event.source} failed (${event.reason}); retrying in ${(event.delayMs / 1000).toFixed(1)} s.`),
  });
  for (const w of result.warnings) say(`warning: ${messageText(w)}`);
  if (command.claims) io.stderr(claimsText(result));
  const content = command.file === undefined ? formatOutput(command.output, result) : fileContent(command.output, result);
  if (command.file === undefined) {
    io.stdout(content);
    return;
  }
  try {
    writeSecretFile(command.file, content);
  } catch (e) {
    // A path that is not a regular file (a device, a FIFO, a link) is refused with its own advice.
    if (isManagedIdentityError(e)) throw new FileError(formatMessage(e.key, e.args));
    const why = e instanceof Error ? e.message : String(e);
    throw new FileError(`could not write ${command.file} (${why}). Check that its folder exists and is writable.`);
  }
}

function messageText(m: Message): string {
  return formatMessage(m.key, m.args);
}

/**
 * Whether stdout was closed when mi-token started: Node then opens the null device read-write in its place, so a
 * write "succeeds" and the token is lost. A shell's `>/dev/null` opens it write-only (a wanted discard, as with
 * --claims >/dev/null), so only the read-write null device counts. Linux tells the access mode in
 * /proc/self/fdinfo; elsewhere this cannot be told and is not refused.
 */
function stdoutGoesNowhere(): boolean {
  try {
    const out = fstatSync(1);
    if (!out.isCharacterDevice() || out.rdev !== statSync('/dev/null').rdev) return false;
    const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync('/proc/self/fdinfo/1', 'utf8'))?.[1];
    // O_ACCMODE 3, O_RDWR 2.
    return flags !== undefined && (Number.parseInt(flags, 8) & 3) === 2;
  } catch {
    return false;
  }
}

if (require.main === module) {
  const io: Io = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    stdoutGoesNowhere,
  };
  // A reader that went away (EPIPE) or a stdout that cannot be written: the token did not arrive, so not a success.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    process.stderr.write(`mi-token: could not write to stdout (${e.code ?? e.message}).\n`);
    process.exitCode = EXIT.failed;
  });
  // exitCode, not exit(): stdout is flushed before the process ends.
  void main(process.argv.slice(2), io).then((code) => {
    if (!process.exitCode) process.exitCode = code;
  });
}
