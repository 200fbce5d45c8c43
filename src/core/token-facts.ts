/**
 * What callers publish beside a token: its expiry and the identity it names,
 * read from its claims (the endpoint's own fields where the claims are silent).
 * The task sets these as variables; the command line prints them.
 */
import type { TokenResult } from './acquire';
import { clientIdOf } from './jwt';

export interface TokenFacts {
  /** ISO 8601 UTC. */
  expiresOn: string;
  /** Seconds since 1970. */
  expiresOnUnix: number;
  tenantId?: string;
  clientId?: string;
  objectId?: string;
  /** The token's aud, else the resource the endpoint named, else the one requested. */
  audience: string;
}

export function tokenFacts(result: TokenResult): TokenFacts {
  const claims = result.claims;
  return {
    expiresOn: result.expiresOn.toISOString(),
    expiresOnUnix: Math.floor(result.expiresOn.getTime() / 1000),
    tenantId: str(claims?.tid),
    clientId: clientIdOf(claims) ?? result.clientId,
    objectId: str(claims?.oid),
    audience: str(claims?.aud) ?? result.resource ?? result.requestedResource,
  };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}
