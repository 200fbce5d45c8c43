import { strict as assert } from 'node:assert';
import * as sinon from 'sinon';
import { Attempt, parseRetryAfter, retrying, RetryEvent } from '../../src/core/retry';

function failure(reason: string, extra: Partial<Extract<Attempt<string>, { ok: false }>> = {}): Attempt<string> {
  return { ok: false, error: new Error(reason), retryable: true, reason, ...extra };
}

describe('retry', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => clock.restore());

  async function run(results: Attempt<string>[], deadlineMs = 120_000) {
    const events: RetryEvent[] = [];
    const calls: number[] = [];
    const promise = retrying(
      async () => {
        calls.push(Date.now());
        return results.shift() ?? failure('exhausted');
      },
      { deadline: Date.now() + deadlineMs, random: () => 0.5, onRetry: (e) => events.push(e) },
    );
    const settled = promise.then(
      (v) => ({ value: v }),
      (e: Error) => ({ error: e }),
    );
    await clock.runAllAsync();
    return { ...(await settled), events, calls };
  }

  it('backs off exponentially: about 1, 2, 4, 8, 16 s, then gives up', async () => {
    const r = await run(Array.from({ length: 10 }, () => failure('HTTP 500')));
    assert.deepEqual(
      r.events.map((e) => e.delayMs),
      [1000, 2000, 4000, 8000, 16000],
    );
    assert.equal(r.calls.length, 6);
    assert.equal((r as { error?: Error }).error?.message, 'HTTP 500');
    assert.deepEqual(r.events.map((e) => e.last), [false, false, false, false, true]);
  });

  it('honours a Retry-After longer than the back-off, and never waits less than the back-off', async () => {
    const r = await run([failure('HTTP 429', { retryAfterMs: 3000 }), failure('HTTP 429', { retryAfterMs: 1000 }), failure('HTTP 429', { retryAfterMs: 0 }), { ok: true, value: 'token' }]);
    assert.equal((r as { value?: string }).value, 'token');
    assert.deepEqual(r.events.map((e) => e.delayMs), [3000, 2000, 4000]);
    assert.ok(r.calls[1] - r.calls[0] >= 3000);
    assert.ok(r.calls[2] - r.calls[1] >= 2000);
    assert.ok(r.calls[3] - r.calls[2] >= 4000);
  });

  /** Retries an endpoint that answers 410 for ever; its calls' times, retry events and the error it ended with. */
  async function goneForever(extra: { retryAfterMs?: number }, options: Partial<Parameters<typeof retrying>[1]>) {
    const calls: number[] = [];
    const events: RetryEvent[] = [];
    const promise = retrying(
      async () => {
        calls.push(Date.now());
        return failure('HTTP 410', { gone: true, ...extra });
      },
      { deadline: Date.now() + 600_000, random: () => 0.5, onRetry: (e) => events.push(e), ...options },
    ).catch((e: Error) => e);
    await clock.runAllAsync();
    return { calls, events, error: (await promise) as Error };
  }

  it('does not flood an IMDS that answers 410 with Retry-After: 0: each wait is at least the back-off, and the attempts are bounded', async () => {
    const start = Date.now();
    const { calls, events, error } = await goneForever({ retryAfterMs: 0 }, { random: () => 0 });
    assert.equal(error.message, 'HTTP 410');
    // random 0: the smallest jitter, 0.8 of 1, 2, 4, 8, 16, 30, 30 … s.
    events.forEach((e, i) => assert.ok(e.delayMs >= 0.8 * Math.min(30_000, 1000 * 2 ** i), `retry ${i + 1} waited ${e.delayMs} ms`));
    assert.ok(calls.length <= 12, `${calls.length} attempts`);
    assert.ok(calls.filter((t) => t - start < 70_000).length <= 8, 'a handful of attempts in the 70 s window, not thousands');
  });

  it('bounds the attempts of one run, whatever the window', async () => {
    const { calls, error } = await goneForever({}, { deadline: Date.now() + 10_000_000, policy: { goneWindowMs: 10_000_000, maxAttempts: 4 } });
    assert.equal(error.message, 'HTTP 410');
    assert.equal(calls.length, 4);
  });

  it('keeps retrying 410 for at least 70 s, beyond the retry count', async () => {
    const start = Date.now();
    const calls: number[] = [];
    const promise = retrying(
      async (): Promise<Attempt<string>> => {
        calls.push(Date.now());
        return Date.now() - start < 69_000 ? failure('HTTP 410', { gone: true }) : { ok: true, value: 'token' };
      },
      { deadline: start + 120_000, random: () => 0.5 },
    );
    await clock.runAllAsync();
    assert.equal(await promise, 'token');
    assert.ok(calls.length > 6, `more attempts than the retry count (${calls.length})`);
  });

  it('gives up on a 410 that outlasts the upgrade window', async () => {
    const { calls, error } = await goneForever({}, {});
    assert.equal(error.message, 'HTTP 410');
    assert.ok(calls[calls.length - 1] - calls[0] >= 70_000);
  });

  it('stops at the deadline with the given error', async () => {
    const events: RetryEvent[] = [];
    const promise = retrying(async () => failure('HTTP 503'), {
      deadline: Date.now() + 5000,
      random: () => 0.5,
      onRetry: (e) => events.push(e),
      onDeadline: () => new Error('deadline'),
    }).catch((e: Error) => e);
    await clock.runAllAsync();
    assert.equal(((await promise) as Error).message, 'deadline');
    assert.deepEqual(events.map((e) => e.delayMs), [1000, 2000]);
  });

  it('never retries a final failure', async () => {
    const r = await run([{ ok: false, error: new Error('HTTP 400'), reason: 'HTTP 400', retryable: false }]);
    assert.equal(r.calls.length, 1);
  });

  it('parses Retry-After as seconds or a date', () => {
    assert.equal(parseRetryAfter('3', 0), 3000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4000), 6000);
    assert.equal(parseRetryAfter(undefined, 0), undefined);
    assert.equal(parseRetryAfter('soon', 0), undefined);
  });
});
