/**
 * What mi-token prints: the token alone, a JSON object, or lines that set
 * environment variables in sh (env), PowerShell (pwsh) or cmd.exe (cmd), and
 * the claims for stderr. sh and PowerShell values are single-quoted, so
 * nothing in them is ever expanded. cmd has no quoting that stops %…% (and,
 * with delayed expansion, !…!) expanding, nor one that carries '"' or a line
 * break: a value with any character outside a plain set is refused, never
 * escaped half way.
 */
import type { TokenResult } from '../core/acquire';
import { claimLines } from '../core/jwt';
import { inertLogText } from '../core/log-text';
import { tokenFacts } from '../core/token-facts';
import type { OutputFormat } from './args';

/** The variables of --output env, in order. */
export const ENV_NAMES = ['MI_TOKEN', 'MI_TOKEN_EXPIRES_ON', 'MI_TENANT_ID', 'MI_OBJECT_ID', 'MI_CLIENT_ID'] as const;

/**
 * The output, ending in a newline. For `token` that is the token and one
 * newline ("$(mi-token)" drops it); a --file of that format holds the token
 * without the newline (see fileContent).
 */
export function formatOutput(format: OutputFormat, result: TokenResult): string {
  const facts = tokenFacts(result);
  switch (format) {
    case 'token':
      return `${result.token}\n`;
    case 'json':
      return `${JSON.stringify({
        token: result.token,
        expiresOn: facts.expiresOn,
        tenantId: facts.tenantId ?? null,
        objectId: facts.objectId ?? null,
        clientId: facts.clientId ?? null,
      })}\n`;
    case 'env':
    case 'pwsh':
    case 'cmd': {
      const values = [result.token, facts.expiresOn, facts.tenantId, facts.objectId, facts.clientId];
      const line = ASSIGNMENT[format];
      return ENV_NAMES.map((name, i) => `${line(name, values[i] ?? '')}${format === 'cmd' ? '\r\n' : '\n'}`).join('');
    }
  }
}

const ASSIGNMENT: Record<'env' | 'pwsh' | 'cmd', (name: string, value: string) => string> = {
  env: (name, value) => `export ${name}=${shellQuote(value)}`,
  pwsh: (name, value) => `$env:${name} = ${powershellQuote(value)}`,
  cmd: (name, value) => `set "${name}=${cmdValue(name, value)}"`,
};

/** A value mi-token cannot print in the chosen format; exit 1, nothing printed. */
export class OutputError extends Error {}

/** What --file holds: the output, except that a bare token has no trailing newline. */
export function fileContent(format: OutputFormat, result: TokenResult): string {
  return format === 'token' ? result.token : formatOutput(format, result);
}

/** A POSIX shell word that stands for exactly `value`. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A PowerShell verbatim string that stands for exactly `value`: single quotes,
 * each quote inside doubled. PowerShell also reads the typographic single
 * quotes (U+2018 to U+201B) as quotes, so those are doubled too.
 */
export function powershellQuote(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201a\u201b]/g, '$&$&')}'`;
}

/** What `set "NAME=…"` carries unchanged in a batch file, at the prompt and in for /f, with or without delayed expansion. */
const CMD_SAFE = /^[A-Za-z0-9._\-+/=:~,@ ]*$/;

/** The value itself, when cmd can carry it; otherwise an OutputError naming the variable (never the value). */
export function cmdValue(name: string, value: string): string {
  if (CMD_SAFE.test(value)) return value;
  throw new OutputError(
    `${name} holds a character that cmd.exe cannot carry safely in set "…" (one of " % ! ^ & | < > or a line break, or another outside letters, digits and . _ - + / = : ~ , @ space); nothing was printed. Use --output pwsh, or --output token with --file.`,
  );
}

/** The claims worth seeing, one per line, for stderr, each made inert (a claim is the token's text, not ours). Never the token itself. */
export function claimsText(result: TokenResult): string {
  if (!result.claims) return 'mi-token: the token is not a JWT, so it has no claims to show.\n';
  return claimLines(result.claims)
    .map((line) => `${inertLogText(line)}\n`)
    .join('');
}
