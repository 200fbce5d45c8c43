/**
 * The stop request: how the post-job step stops its own identity server and
 * gets its usage report, without ever sending the control key. The request
 * carries a fresh nonce and HMAC-SHA256(key, "stop\n" + nonce); the server
 * answers with the report and HMAC-SHA256(key, "report\n" + nonce + "\n" + body),
 * so the step trusts only an answer from the server it started (not whatever
 * listens on a port a tampered record names) and a replayed request stops nothing.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { secretMatches } from './guard';

export const CONTROL_PATH = '/control/stop';
export const NONCE_HEADER = 'x-control-nonce';
export const PROOF_HEADER = 'x-control-proof';

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

export function stopProof(key: string, nonce: string): string {
  return createHmac('sha256', key).update(`stop\n${nonce}`).digest('hex');
}

export function reportProof(key: string, nonce: string, body: string): string {
  return createHmac('sha256', key).update(`report\n${nonce}\n${body}`).digest('hex');
}

/** Whether a stop request proves knowledge of the key (constant time; a nonce is used once). */
export function stopAllowed(key: string, nonce: string | undefined, proof: string | undefined, seen: Set<string>): boolean {
  if (!nonce || !/^[0-9a-f]{32}$/.test(nonce) || seen.has(nonce)) return false;
  if (!secretMatches(proof, stopProof(key, nonce))) return false;
  seen.add(nonce);
  return true;
}
