/**
 * Waiting for something another process does (a file appears, a server stops): polls, and fails with what it waited
 * for after a generous bound, which says "did not happen", not "was slow".
 */
export async function until(check: () => boolean, what: string, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${withinMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
