/** The overall deadline a caller gives: whole seconds, more than zero. */
import { ManagedIdentityError } from './errors';

export const DEFAULT_TIMEOUT_SECONDS = 120;

/** Reads a timeout as typed; empty means the default. Throws badInput (TimeoutInvalid) otherwise. */
export function parseTimeoutSeconds(raw: string): number {
  const text = raw.trim() || String(DEFAULT_TIMEOUT_SECONDS);
  if (!/^\d+$/.test(text) || Number(text) <= 0) throw new ManagedIdentityError('badInput', 'TimeoutInvalid', text);
  return Number(text);
}
