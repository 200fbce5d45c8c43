/**
 * The identity server's token cache: one entry per (resource, identity),
 * answered from memory until 5 minutes before the token expires, then
 * refreshed. Requests that arrive while a token is being fetched share that
 * one upstream request (single flight). A failed refresh falls back to the
 * cached token while it still has a minute left; failures are never cached.
 * Bounded: beyond `maxEntries` the least recently used entry is dropped.
 */
import type { Clock } from '../retry';

export interface CachedToken {
  token: string;
  expiresOn: Date;
  clientId?: string;
}

export const REFRESH_MARGIN_MS = 5 * 60_000;
/** A failed refresh may still answer with a token that has this long left. */
const FALLBACK_MIN_MS = 60_000;

interface Entry {
  token?: CachedToken;
  pending?: Promise<CachedToken>;
  used: number;
}

export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  /** Upstream requests made, for the tests and the summary. */
  upstreamRequests = 0;

  constructor(
    private readonly clock: Clock,
    private readonly maxEntries = 64,
  ) {}

  /** The token for `key`: cached, or fetched once by `fetch` however many callers ask at the same time. */
  async get(key: string, fetch: () => Promise<CachedToken>): Promise<CachedToken> {
    const now = this.clock.now();
    let entry = this.entries.get(key);
    if (entry) {
      // Re-insert: Map order is the recency order.
      this.entries.delete(key);
      this.entries.set(key, entry);
      entry.used = now;
      if (entry.token && entry.token.expiresOn.getTime() - now > REFRESH_MARGIN_MS) return entry.token;
      if (entry.pending) return entry.pending;
    } else {
      entry = { used: now };
      this.entries.set(key, entry);
      this.evict();
    }
    const target = entry;
    this.upstreamRequests++;
    const pending = fetch().then(
      (token) => {
        target.token = token;
        return token;
      },
      (e: unknown) => {
        const old = target.token;
        if (old && old.expiresOn.getTime() - this.clock.now() > FALLBACK_MIN_MS) return old;
        throw e;
      },
    );
    target.pending = pending;
    try {
      return await pending;
    } finally {
      if (target.pending === pending) target.pending = undefined;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries) break;
      if (!entry.pending) this.entries.delete(key);
    }
  }
}
