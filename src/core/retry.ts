/**
 * Retries with exponential back-off and jitter under one overall deadline.
 * Retry-After is honoured when it asks for longer than the back-off, never
 * shorter: every retry waits at least the back-off the policy would use
 * without it (a "Retry-After: 0" must not turn retries into a flood). IMDS
 * answers 410 for up to 70 s while it is upgraded, so a 410 is retried for at
 * least that long, beyond maxRetries; maxAttempts bounds the attempts of one
 * run whatever the answers say.
 * Time comes from a Clock, so tests can use sinon's fake timers or a fake clock.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export type Attempt<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      error: Error;
      retryable: boolean;
      /** Short reason for the log: "HTTP 429", "connection refused". */
      reason: string;
      retryAfterMs?: number;
      /** HTTP 410 from IMDS: keep trying through the upgrade window. */
      gone?: boolean;
    };

export interface RetryEvent {
  attempt: number;
  delayMs: number;
  reason: string;
  /** True when no later retry is possible within the policy (for log level). */
  last: boolean;
}

export interface RetryPolicy {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** How long a 410 is retried, from the first 410. */
  goneWindowMs: number;
  /** The most attempts in one run, the 410 window included. */
  maxAttempts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 5, baseDelayMs: 1000, maxDelayMs: 30_000, goneWindowMs: 70_000, maxAttempts: 12 };

export interface RetryOptions {
  policy?: Partial<RetryPolicy>;
  /** Epoch ms after which no new attempt starts. */
  deadline: number;
  clock?: Clock;
  random?: () => number;
  onRetry?: (event: RetryEvent) => void;
  /** Raised when the deadline ends the retries: receives the last failure. */
  onDeadline?: (lastError: Error) => Error;
}

export async function retrying<T>(attempt: (n: number) => Promise<Attempt<T>>, options: RetryOptions): Promise<T> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const clock = options.clock ?? realClock;
  const random = options.random ?? Math.random;
  let retries = 0;
  let firstGoneAt: number | undefined;
  for (let n = 1; ; n++) {
    const result = await attempt(n);
    if (result.ok) return result.value;
    if (!result.retryable) throw result.error;

    const now = clock.now();
    if (result.gone) firstGoneAt ??= now;
    const inGoneWindow = firstGoneAt !== undefined && now - firstGoneAt < policy.goneWindowMs;
    if ((retries >= policy.maxRetries && !inGoneWindow) || n >= policy.maxAttempts) throw result.error;

    const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(retries, 16));
    const jittered = backoff * (0.8 + 0.4 * random());
    // The back-off is a floor: Retry-After may only lengthen the wait.
    const delayMs = Math.round(Math.max(jittered, result.retryAfterMs ?? 0));
    if (now + delayMs >= options.deadline) {
      throw options.onDeadline ? options.onDeadline(result.error) : result.error;
    }
    retries++;
    const last = (retries >= policy.maxRetries && !inGoneWindow) || n + 1 >= policy.maxAttempts;
    options.onRetry?.({ attempt: n, delayMs, reason: result.reason, last });
    await clock.sleep(delayMs);
  }
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  // So many digits that they make no finite number are unreadable too.
  if (/^\d+$/.test(text)) return Number.isFinite(Number(text) * 1000) ? Number(text) * 1000 : undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
