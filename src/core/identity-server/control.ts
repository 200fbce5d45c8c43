/**
 * The stop request: how the post-job step stops its own identity server and
 * gets its usage report, without ever sending the control key. The request
 * carries a fresh nonce and HMAC-SHA256(key, "stop\n" + nonce); the server
 * answers with the report and HMAC-SHA256(key, "report\n" + nonce + "\n" + body),
 * so the step trusts only an answer from the server it started (not whatever
 * listens on a port a tampered record names) and a replayed request stops nothing.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { secretMatches } from './guard';
import { tidy, UsageReport } from './usage';

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

/** The nonce of the report a server leaves when it stops on its own (idle, lifetime): signed like a stop answer. */
export const SELF_STOP_NONCE = 'self-stop';

/** The report file's content: the report and its proof. */
export function selfStopRecord(key: string, report: UsageReport): string {
  const body = JSON.stringify(report);
  return JSON.stringify({ body, proof: reportProof(key, SELF_STOP_NONCE, body) });
}

/** The report in a file a server left when it stopped on its own, only when its proof holds. */
export function readSelfStopRecord(key: string, text: string): UsageReport | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = v as { body?: unknown; proof?: unknown };
  if (!r || typeof r.body !== 'string' || typeof r.proof !== 'string') return undefined;
  return secretMatches(r.proof, reportProof(key, SELF_STOP_NONCE, r.body)) ? parseReport(r.body) : undefined;
}

export type StopOutcome = { stopped: true; report: UsageReport } | { stopped: false; why: 'notRunning' | 'refused' | 'unproven' | 'timeout' };

const MAX_REPORT_BYTES = 256 * 1024;

/**
 * Asks the identity server on 127.0.0.1:`port` to stop, proving the control
 * key, and returns its usage report only when the answer proves the key too.
 * Goes to the loopback address only, whatever else a record may say.
 */
export function requestStop(port: number, key: string, timeoutMs = 10_000): Promise<StopOutcome> {
  const nonce = newNonce();
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: CONTROL_PATH, method: 'POST', agent: false, timeout: timeoutMs, headers: { [NONCE_HEADER]: nonce, [PROOF_HEADER]: stopProof(key, nonce), 'Content-Length': '0' } },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_REPORT_BYTES) req.destroy();
          else chunks.push(c);
        });
        res.on('end', () => {
          if (res.statusCode !== 200) return resolve({ stopped: false, why: 'refused' });
          const body = Buffer.concat(chunks).toString('utf8');
          const proof = res.headers[PROOF_HEADER];
          const report = typeof proof === 'string' && secretMatches(proof, reportProof(key, nonce, body)) ? parseReport(body) : undefined;
          resolve(report ? { stopped: true, report } : { stopped: false, why: 'unproven' });
        });
      },
    );
    req.on('timeout', () => {
      req.destroy();
      resolve({ stopped: false, why: 'timeout' });
    });
    req.on('error', () => resolve({ stopped: false, why: 'notRunning' }));
    req.end();
  });
}

const text = (v: unknown): v is string => typeof v === 'string';

/** The report, checked field by field (a text is shortened and kept on one line: it is shown in a summary). */
export function parseReport(body: string): UsageReport | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return undefined;
  }
  const r = raw as Partial<UsageReport>;
  if (!r || typeof r !== 'object' || !Array.isArray(r.rows) || typeof r.refused !== 'object' || !r.refused || !text(r.startedAt)) return undefined;
  const rows = r.rows.filter(
    (row) => row && text(row.audience) && text(row.identity) && Number.isInteger(row.count) && text(row.first) && text(row.last) && Array.isArray(row.protocols) && Array.isArray(row.userAgents),
  );
  const refused: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.refused)) if (Number.isInteger(v)) refused[tidy(k, 40)] = v;
  return {
    rows: rows.slice(0, 100).map((row) => ({
      audience: tidy(row.audience),
      identity: tidy(row.identity),
      count: row.count,
      first: tidy(row.first, 30),
      last: tidy(row.last, 30),
      protocols: row.protocols.filter(text).slice(0, 4).map((p) => tidy(p, 30)),
      userAgents: row.userAgents.filter(text).slice(0, 5).map((a) => tidy(a)),
    })),
    refused,
    otherCount: Number.isInteger(r.otherCount) ? (r.otherCount as number) : 0,
    upstreamRequests: Number.isInteger(r.upstreamRequests) ? (r.upstreamRequests as number) : 0,
    startedAt: tidy(r.startedAt, 30),
    stopReason: text(r.stopReason) ? tidy(r.stopReason, 40) : undefined,
  };
}
