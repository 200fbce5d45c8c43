/**
 * Scripted faults: for a named route, a queue of answers to give instead of
 * the real one (a status, headers and body; a delay; a hang; a reset
 * connection). Each request to the route takes the next step; when the queue
 * is empty the route behaves normally again.
 */
export interface FaultStep {
  status?: number;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  /** Wait this long first. With no status, the real answer follows the wait. */
  delayMs?: number;
  /** Never answer (until the client gives up or the server stops). */
  hang?: boolean;
  /** Destroy the connection without an answer. */
  reset?: boolean;
}

export class Faults {
  private readonly queues = new Map<string, FaultStep[]>();

  /** Queues steps for a route; `times` repeats the whole list. */
  script(route: string, steps: FaultStep | FaultStep[], times = 1): this {
    const list = Array.isArray(steps) ? steps : [steps];
    const queue = this.queues.get(route) ?? [];
    for (let i = 0; i < times; i++) queue.push(...list);
    this.queues.set(route, queue);
    return this;
  }

  next(route: string): FaultStep | undefined {
    return this.queues.get(route)?.shift();
  }

  pending(route: string): number {
    return this.queues.get(route)?.length ?? 0;
  }

  clear(): void {
    this.queues.clear();
  }
}
