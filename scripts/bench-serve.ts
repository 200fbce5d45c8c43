/**
 * The identity server's part of npm run bench (serveIdentity): the bundled
 * serve.js started as the task starts it, against the emulator as IMDS.
 * 1,000 requests each, one at a time, each on a new connection (as a one-shot
 * tool such as az or terraform makes them): asking the emulated IMDS
 * directly; a cached answer from the server (App Service protocol); a cold
 * answer (a new audience each time: the server asks IMDS first). Median and
 * p99, and the server's resident memory after the cached and cold runs
 * (Linux, from /proc). Runs alone with `node out/scripts/bench-serve.js`
 * (after npm run build; BENCH_SERVE_REQUESTS sets the count).
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { imdsEnv, startEmulator } from '../emulator';
import { CONTROL_PATH, requestStop } from '../src/core/identity-server/control';
import { newServerSecret } from '../src/core/identity-server/guard';
import { spawnIdentityServer } from '../src/core/identity-server/process';
import { stagedTask } from './paths';

const REQUESTS = Math.max(100, Number(process.env.BENCH_SERVE_REQUESTS) || 1000);
const ARM = 'https://management.azure.com/';

export interface Latency {
  medianMs: number;
  p99Ms: number;
}
export interface ServeBench {
  requests: number;
  direct: Latency;
  cached: Latency;
  cold: Latency;
  /** Resident memory of the server process, MB: after the cached run, after the cold run, and its peak. */
  memoryMb?: { afterCached: number; afterCold: number; peak: number };
}

const agent = new Agent({ keepAlive: false });

function get(port: number, path: string, headers: Record<string, string>): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`${path.slice(0, 60)}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 100) / 100;
  return { medianMs: at(0.5), p99Ms: at(0.99) };
}

async function series(n: number, one: (i: number) => Promise<number>): Promise<Latency> {
  await one(-1);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push(await one(i));
  return latency(samples);
}

/** VmRSS and VmHWM of a process, MB (Linux). */
function memory(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
    return { rss: Math.round(kb('VmRSS') * 10) / 10, peak: Math.round(kb('VmHWM') * 10) / 10 };
  } catch {
    return undefined;
  }
}

/** Measures the server bundled in `taskDir` (default: the staged build) under `node`. */
export async function benchServe(taskDir = stagedTask('ManagedIdentityTokenV1'), node = process.execPath): Promise<ServeBench> {
  const cold = Array.from({ length: REQUESTS + 1 }, (_, i) => `api://bench-cold-${i}`);
  const emu = await startEmulator({ extraResources: cold });
  const secret = newServerSecret();
  const controlKey = newServerSecret();
  try {
    const imdsPort = Number(new URL(emu.url).port);
    const { port, pid } = await spawnIdentityServer(
      node,
      join(taskDir, 'serve.js'),
      { secret, controlKey, chosen: { kind: 'system' }, upstream: { identitySource: 'imds', timeoutSeconds: 30 } },
      15_000,
      { ...process.env, ...imdsEnv(emu) },
    );
    const imdsPath = (resource: string) => `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}`;
    const servePath = (resource: string) => `/msi/token?api-version=2019-08-01&resource=${encodeURIComponent(resource)}`;
    const host = `127.0.0.1:${port}`;
    const direct = await series(REQUESTS, () => get(imdsPort, imdsPath(ARM), { Metadata: 'true' }));
    const cached = await series(REQUESTS, () => get(port, servePath(ARM), { Host: host, 'X-IDENTITY-HEADER': secret }));
    const afterCached = memory(pid);
    const coldLatency = await series(REQUESTS, (i) => get(port, servePath(cold[i + 1]), { Host: host, 'X-IDENTITY-HEADER': secret }));
    const afterCold = memory(pid);
    const stopped = await requestStop(port, controlKey);
    if (!stopped.stopped) throw new Error(`the server did not stop (${stopped.why}) at ${CONTROL_PATH}`);
    const mem = afterCached && afterCold ? { afterCached: afterCached.rss, afterCold: afterCold.rss, peak: afterCold.peak } : undefined;
    return { requests: REQUESTS, direct, cached, cold: coldLatency, memoryMb: mem };
  } finally {
    await emu.stop();
  }
}

export function serveBenchLines(r: ServeBench): string[] {
  const l = (x: Latency) => `median ${x.medianMs} ms, p99 ${x.p99Ms} ms`;
  return [
    `Identity server (serveIdentity), ${r.requests} requests each, one at a time, a new connection each:`,
    `- asking the emulated IMDS directly: ${l(r.direct)}`,
    `- the server, cached answer: ${l(r.cached)}`,
    `- the server, cold answer (a new audience: the server asks IMDS first): ${l(r.cold)}`,
    r.memoryMb ? `- the server's resident memory: ${r.memoryMb.afterCached} MB after the cached run, ${r.memoryMb.afterCold} MB after the cold run (peak ${r.memoryMb.peak} MB)` : '- memory: not measured (Linux /proc only)',
  ];
}

if (require.main === module) {
  benchServe().then(
    (r) => console.log(serveBenchLines(r).join('\n')),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
