/**
 * How long a token the endpoint gave has left. An endpoint hands out tokens
 * from its cache, which it refreshes well before they expire, so a token that
 * has already expired says that the cache or this machine's clock is wrong:
 * an error, not a success. One that expires within 5 minutes is a warning:
 * later steps may not be able to use it.
 */
import { ManagedIdentityError } from './errors';
import type { Message } from './messages';

/** Less than this left is a warning. */
export const SHORT_LIFETIME_MS = 5 * 60_000;

/** The warnings about a token's lifetime; throws (badResponse) when it has expired. */
export function checkLifetime(label: string, expiresOn: Date, nowMs: number): Message[] {
  const leftMs = expiresOn.getTime() - nowMs;
  if (leftMs <= 0) throw new ManagedIdentityError('badResponse', 'TokenExpired', label, expiresOn.toISOString(), new Date(nowMs).toISOString());
  if (leftMs < SHORT_LIFETIME_MS) return [{ key: 'TokenExpiresSoon', args: [expiresOn.toISOString(), String(Math.floor(leftMs / 1000))] }];
  return [];
}

/** Minutes left, rounded, never negative (for the log and the summary). */
export function minutesLeft(expiresOn: Date, nowMs: number): number {
  return Math.max(0, Math.round((expiresOn.getTime() - nowMs) / 60_000));
}
