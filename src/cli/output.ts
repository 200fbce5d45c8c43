/**
 * What mi-token prints: the token alone, a JSON object, or shell export
 * lines, and the claims for stderr. Values in export lines are single-quoted,
 * so eval never expands anything in them.
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
    case 'env': {
      const values = [result.token, facts.expiresOn, facts.tenantId, facts.objectId, facts.clientId];
      return ENV_NAMES.map((name, i) => `export ${name}=${shellQuote(values[i] ?? '')}\n`).join('');
    }
  }
}

/** What --file holds: the output, except that a bare token has no trailing newline. */
export function fileContent(format: OutputFormat, result: TokenResult): string {
  return format === 'token' ? result.token : formatOutput(format, result);
}

/** A POSIX shell word that stands for exactly `value`. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The claims worth seeing, one per line, for stderr, each made inert (a claim is the token's text, not ours). Never the token itself. */
export function claimsText(result: TokenResult): string {
  if (!result.claims) return 'mi-token: the token is not a JWT, so it has no claims to show.\n';
  return claimLines(result.claims)
    .map((line) => `${inertLogText(line)}\n`)
    .join('');
}
