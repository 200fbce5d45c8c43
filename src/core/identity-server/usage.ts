/**
 * What the identity server served, for the post-job summary: per audience
 * and identity, how many answers, the first and last time, which protocol and
 * which clients (User-Agent) asked; and how many requests were refused, by
 * reason. Never a token, a secret or a query. Bounded in size: a client that
 * asks for thousands of audiences cannot grow it without limit.
 */
import { inertLogText } from '../log-text';
export interface UsageRow {
  audience: string;
  /** Which identity answered: "chosen" (the task's) or the one the request named, described. */
  identity: string;
  count: number;
  first: string;
  last: string;
  protocols: string[];
  userAgents: string[];
}

export interface UsageReport {
  rows: UsageRow[];
  /** Requests refused, by reason code. */
  refused: Record<string, number>;
  /** Answers not itemised because the table was full. */
  otherCount: number;
  upstreamRequests: number;
  startedAt: string;
  /** Why the server stopped (set at the stop). */
  stopReason?: string;
}

const MAX_ROWS = 100;
const MAX_AGENTS = 5;
const MAX_TEXT = 200;
const MAX_REASONS = 20;

/** Outside text made short and inert: one line, nothing the agent would obey or format (log-text.ts). */
export function tidy(text: string, max = MAX_TEXT): string {
  return inertLogText(text).trim().slice(0, max);
}

export class Usage {
  private readonly rows = new Map<string, UsageRow>();
  private readonly refused: Record<string, number> = {};
  private otherCount = 0;

  constructor(private readonly startedAt: Date) {}

  served(audience: string, identity: string, protocol: string, userAgent: string | undefined, at: Date): void {
    const key = `${audience.toLowerCase().replace(/\/+$/, '')}\n${identity}`;
    let row = this.rows.get(key);
    if (!row) {
      if (this.rows.size >= MAX_ROWS) {
        this.otherCount++;
        return;
      }
      row = { audience: tidy(audience), identity, count: 0, first: at.toISOString(), last: at.toISOString(), protocols: [], userAgents: [] };
      this.rows.set(key, row);
    }
    row.count++;
    row.last = at.toISOString();
    if (!row.protocols.includes(protocol)) row.protocols.push(protocol);
    const agent = tidy(userAgent ?? '') || '-';
    if (!row.userAgents.includes(agent) && row.userAgents.length < MAX_AGENTS) row.userAgents.push(agent);
  }

  refusedFor(code: string): void {
    const known = Object.keys(this.refused);
    const reason = known.includes(code) || known.length < MAX_REASONS ? code : 'other';
    this.refused[reason] = (this.refused[reason] ?? 0) + 1;
  }

  report(upstreamRequests: number): UsageReport {
    return { rows: [...this.rows.values()], refused: { ...this.refused }, otherCount: this.otherCount, upstreamRequests, startedAt: this.startedAt.toISOString() };
  }
}
