/** A clock whose sleeps return at once and are recorded: retry delays without waiting for them. */
import type { Clock } from '../../src/core/retry';

export interface FakeClock extends Clock {
  sleeps: number[];
}

export function fakeClock(start = 1_000_000): FakeClock {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}
