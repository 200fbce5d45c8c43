/**
 * Reads the claims of an access token. The signature is not checked: the token
 * came straight from the identity endpoint, and the claims are only shown and
 * used to name the identity.
 */
import { isoFromEpochSeconds } from './expiry';

export interface TokenClaims {
  aud?: string;
  iss?: string;
  tid?: string;
  oid?: string;
  appid?: string;
  azp?: string;
  sub?: string;
  xms_mirid?: string;
  idtyp?: string;
  exp?: number;
  iat?: number;
  nbf?: number;
  [claim: string]: unknown;
}

/** The claims of a JWT, or undefined when the token is not a JWT (some audiences get opaque tokens). */
export function decodeJwtClaims(token: string): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const json = Buffer.from(parts[1], 'base64url').toString('utf8');
    const claims: unknown = JSON.parse(json);
    return claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? (claims as TokenClaims) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The segments a log scanner should mask besides the whole token: a tool may print only part of a JWT. Every
 * segment after the header, however many there are (an encrypted token has five), each long enough not to mask
 * ordinary words (16 characters).
 */
export function jwtSecretSegments(token: string): string[] {
  const parts = token.split('.');
  return parts.length >= 3 ? parts.slice(1).filter((p) => p.length >= 16) : [];
}

/** The client (application) ID: v1 tokens say appid, v2 tokens azp. */
export function clientIdOf(claims: TokenClaims | undefined): string | undefined {
  return str(claims?.appid) ?? str(claims?.azp);
}

/** The claims worth showing in a log, in a stable order, as text. */
export function describeClaims(claims: TokenClaims): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  for (const name of ['aud', 'iss', 'tid', 'oid', 'appid', 'azp', 'xms_mirid', 'idtyp'] as const) {
    const v = str(claims[name]);
    if (v) rows.push([name, v]);
  }
  // A claim's value is not checked by anyone: an exp no date can hold is shown as it is, not thrown on.
  if (typeof claims.exp === 'number') rows.push(['exp', `${claims.exp} (${isoFromEpochSeconds(claims.exp) ?? 'not a date'})`]);
  return rows;
}

/** describeClaims as aligned lines ("  aud       https://…"), as the task's log and mi-token --claims print them. */
export function claimLines(claims: TokenClaims): string[] {
  return describeClaims(claims).map(([name, value]) => `  ${name.padEnd(9)} ${value}`);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

const JWT_START = /eyJ[\w-]+\.[\w-]/y;

/**
 * Text with everything that looks like a JWT replaced: from "eyJ<header>.<payload>" to the end of its dotted run, so the
 * signature goes too, and every part of a token with more segments (an encrypted one has five). For output the task
 * passes through but did not write. Linear in the text's length: a plain global search for the pattern restarts at every
 * "eyJ" and scans to the end of its run each time, which takes minutes on a megabyte of "eyJeyJ…" (an answer may be that large).
 */
export function redactJwts(text: string): string {
  return text.replace(/[\w.-]+/g, (run) => {
    for (let at = run.indexOf('eyJ'); at >= 0; ) {
      JWT_START.lastIndex = at;
      if (JWT_START.test(run)) return `${run.slice(0, at)}<token removed>`;
      // No token starts later in this dot-separated segment either: it would end where this one failed.
      const end = run.indexOf('.', at);
      at = end < 0 ? -1 : run.indexOf('eyJ', end);
    }
    return run;
  });
}
