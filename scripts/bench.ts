/**
 * npm run bench: measures, on this machine, in one run, the tasks as an agent
 * runs them: from the unzipped .vsix, under the Node of each execution
 * handler, against the loopback emulator. Prints a table and writes JSON to
 * bench/results/. A benchmark, not a test: targets are reported, not asserted.
 *
 * - ManagedIdentityToken@1 on IMDS: median wall time (spawn to exit) and peak
 *   memory (maxRSS, read in the child through a --require preload) over RUNS
 *   runs after a warm-up, next to `node -e 0` (the floor: Node's own start-up,
 *   same environment, same preload) and next to what users do today,
 *   `az login --identity && az account get-access-token` against the same
 *   emulator (skipped, and said so, without the Azure CLI).
 *   For reference, the least any task-lib task can do on this path: a task of
 *   five lines that loads azure-pipelines-task-lib, reads an input, GETs the
 *   token with node:http and sets one secret variable (built here, not shipped).
 * - The same task when IMDS answers 429 with Retry-After: 5 three times: longer than each of the first three
 *   back-offs (1, 2, 4 s, jittered ±20 %), which are a floor under any Retry-After, so the task waits exactly 15 s.
 * - ManagedIdentityInfo@1 against 5,000 resources and 500 secrets.
 * - The .vsix size and each task folder's size.
 * - The identity server (serveIdentity): cached and cold answers against asking
 *   IMDS directly, and its memory (bench-serve.ts, which also runs alone).
 * BENCH_RUNS sets the number of runs (default 15).
 */
import { build } from 'esbuild';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, hostname, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AzureEmulator, IMDS_TOKEN_ROUTE, imdsEnv, msiEndpointEnv, ROLES, startEmulator, worldOf } from '../emulator';
import { runTask, TaskRun } from '../emulator/agent';
import { azCloudCommands } from '../src/core/azcli';
import { customCloud } from '../src/core/clouds';
import { benchServe, ServeBench, serveBenchLines } from './bench-serve';
import { buildAll } from './build';
import { packageExtension } from './package';
import { findOnPath, ROOT, TASK_NAMES } from './paths';
import { folderSize, HANDLER_NODES, handlerNodeMissing, unzip } from './vsix';

const RUNS = Math.max(10, Number(process.env.BENCH_RUNS) || 15);
const AZ_RUNS = 10;
const RETRY_RUNS = 3;
const INFO_RUNS = Math.min(RUNS, 5);
const RESOURCES = 5000;
const PAGE_SIZE = 1000;
const SECRETS = 500;
const ARM_AUDIENCE = 'https://management.azure.com/';
const TARGETS = { floorRatio: 2.0, azSpeedup: 10, retryMs: 15000, retryTolerance: 0.1, infoMs: 2000, infoMb: 150, vsixBytes: 1.5 * 2 ** 20, taskBytes: 2 ** 20 };

interface Sample {
  wallMs: number;
  peakMb: number;
}
interface Stats {
  runs: number;
  wallMedianMs: number;
  wallMinMs: number;
  wallMaxMs: number;
  peakMedianMb: number;
  peakMaxMb: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
function stats(samples: Sample[]): Stats {
  const wall = samples.map((s) => s.wallMs);
  return { runs: samples.length, wallMedianMs: round(median(wall)), wallMinMs: round(Math.min(...wall)), wallMaxMs: round(Math.max(...wall)), peakMedianMb: round(median(samples.map((s) => s.peakMb))), peakMaxMb: round(Math.max(...samples.map((s) => s.peakMb))) };
}

/** Runs `measure` once to warm up (file cache, emulator), then `runs` times. */
async function repeat(runs: number, measure: (i: number) => Promise<Sample>): Promise<Sample[]> {
  await measure(-1);
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await measure(i));
  return samples;
}

/** The peak-memory preload: the child writes its maxRSS (KB) to BENCH_RSS_FILE as it exits. */
function peakPreload(work: string): { env: (file: string) => Record<string, string>; read: (file: string) => number } {
  const preload = join(work, 'peak.js');
  writeFileSync(preload, "process.on('exit', () => require('fs').writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));\n");
  return {
    env: (file) => ({ NODE_OPTIONS: `--require ${preload}`, BENCH_RSS_FILE: file }),
    read: (file) => Number(readFileSync(file, 'utf8')) / 1024,
  };
}

/** `node -e 0` spawned the way runTask spawns a task: same environment, same preload, stdout and stderr piped. */
function nodeFloor(node: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(node, ['-e', '0'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`node -e 0 exited ${code}`))));
  });
}

/**
 * The reference task: task-lib, one input, one GET to IMDS, one secret
 * variable, nothing else. What the platform costs on the token task's path.
 */
async function referenceTask(work: string, tokenTaskDir: string): Promise<string> {
  const dir = join(work, 'reference-task');
  mkdirSync(dir, { recursive: true });
  cpSync(join(tokenTaskDir, 'task.json'), join(dir, 'task.json'));
  const contents = `
const tl = require('azure-pipelines-task-lib/task');
const url = process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST.replace(/\\/+$/, '') + '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=' + encodeURIComponent(tl.getInput('audience') === 'AzureResourceManager' ? '${ARM_AUDIENCE}' : '');
require('node:http').get(url, { headers: { Metadata: 'true' }, agent: false }, (res) => {
  let body = '';
  res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => {
    tl.setVariable('ManagedIdentityToken', JSON.parse(body).access_token, true);
    tl.setResult(tl.TaskResult.Succeeded, 'done');
  });
});`;
  await build({ stdin: { contents, resolveDir: ROOT }, bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: true, outfile: join(dir, 'index.js'), logLevel: 'warning' });
  return dir;
}

function expectToken(run: TaskRun, emu: AzureEmulator, what: string): void {
  const token = run.variables.get('ManagedIdentityToken')?.value;
  if (run.result !== 'Succeeded' || !token || !emu.minted.some((m) => m.token === token)) {
    throw new Error(`${what}: ${run.result ?? 'no result'}, no minted token set\n${run.log}\n${run.stderr}`);
  }
}

/**
 * `az login --identity && az account get-access-token`, each run in a fresh
 * configuration directory copied from one where the emulator's Resource
 * Manager is registered as a cloud (not timed). Azure CLI 2.45 cannot be
 * pointed at another IMDS address, so it reaches the identity through
 * MSI_ENDPOINT (the emulator's same token service), and Resource Manager
 * through the emulator's HTTPS listener.
 */
async function azPath(az: string, emu: AzureEmulator, work: string): Promise<{ version: string; samples: Sample[] }> {
  const run = promisify(execFile);
  const base = {
    ...process.env,
    ...msiEndpointEnv(emu),
    REQUESTS_CA_BUNDLE: emu.tls.pemFile,
    HOME: mkdtempSync(join(work, 'home-')),
    AZURE_CORE_COLLECT_TELEMETRY: 'false',
    AZURE_CORE_SURVEY_MESSAGE: 'false',
    AZURE_CORE_ONLY_SHOW_ERRORS: 'true',
  };
  const template = join(work, 'az-template');
  mkdirSync(template, { recursive: true });
  for (const args of azCloudCommands(customCloud(emu.httpsUrl, ARM_AUDIENCE), { freshConfigDir: true, armAudience: ARM_AUDIENCE })) {
    await run(az, args, { env: { ...base, AZURE_CONFIG_DIR: template } });
  }
  const version = JSON.parse((await run(az, ['version', '--output', 'json'], { env: { ...base, AZURE_CONFIG_DIR: template } })).stdout)['azure-cli'] as string;
  const time = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const samples = await repeat(AZ_RUNS, async (i) => {
    const config = join(work, `az-${i}`);
    cpSync(template, config, { recursive: true });
    const env = { ...base, AZURE_CONFIG_DIR: config };
    let peakKb = 0;
    const started = process.hrtime.bigint();
    let token = '';
    for (const args of [['login', '--identity', '--output', 'none'], ['account', 'get-access-token', '--output', 'json']]) {
      // /usr/bin/time -f %M prints the command's peak RSS (KB) as stderr's last line.
      const { stdout, stderr } = time ? await run(time, ['-f', '%M', az, ...args], { env }) : await run(az, args, { env });
      peakKb = Math.max(peakKb, Number(stderr.trim().split('\n').pop()) || 0);
      if (args[0] === 'account') token = (JSON.parse(stdout) as { accessToken: string }).accessToken;
    }
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (!emu.minted.some((m) => m.token === token)) throw new Error('az account get-access-token did not return a token the emulator minted');
    return { wallMs, peakMb: peakKb / 1024 };
  });
  return { version, samples };
}

async function main(): Promise<void> {
  await buildAll();
  const vsix = packageExtension();
  const work = mkdtempSync(join(tmpdir(), 'bench-'));
  const unpacked = join(work, 'vsix');
  await unzip(vsix, unpacked);
  const taskDir = (name: (typeof TASK_NAMES)[number]) => join(unpacked, 'tasks', name);
  const sizes = { vsixBytes: statSync(vsix).size, taskBytes: Object.fromEntries(TASK_NAMES.map((t) => [t, folderSize(taskDir(t))])) };
  const peak = peakPreload(work);
  let rss = 0;
  const rssFile = () => join(work, `rss-${rss++}`);

  const emu = await startEmulator();
  const world = worldOf(emu);
  world.addResources(RESOURCES - world.resources.length - 1);
  const vault = world.addVault({ name: 'kv-bench', secrets: SECRETS });
  world.assign(emu.machine.systemAssigned!.objectId, ROLES.KeyVaultSecretsUser, vault.id);
  world.resourcePageSize = PAGE_SIZE;

  const reference = await referenceTask(work, taskDir('ManagedIdentityTokenV1'));
  const handlers: Array<{ handler: string; node: string; floor: Stats; reference: Stats; token: Stats; retry: Stats; info: Stats }> = [];
  let az: { version: string; stats: Stats } | { skipped: string };
  try {
    for (const h of HANDLER_NODES) {
      const { handler, node } = h;
      const missing = handlerNodeMissing(h);
      if (missing) {
        console.warn(`SKIPPED ${handler}: ${missing}.`);
        continue;
      }
      const nodeVersion = execFileSync(node, ['-v'], { encoding: 'utf8' }).trim();
      console.log(`${handler} (${nodeVersion})…`);
      const floorSamples = await repeat(RUNS, async () => {
        const file = rssFile();
        const wallMs = await nodeFloor(node, peak.env(file));
        return { wallMs, peakMb: peak.read(file) };
      });
      const tokenRun = async (what: string, dir = taskDir('ManagedIdentityTokenV1')): Promise<Sample> => {
        const file = rssFile();
        const run = await runTask({ taskDir: dir, nodePath: node, env: { ...imdsEnv(emu), ...peak.env(file) }, inputs: { audience: 'AzureResourceManager' } });
        expectToken(run, emu, what);
        return { wallMs: run.durationMs, peakMb: peak.read(file) };
      };
      const referenceSamples = await repeat(RUNS, () => tokenRun(`${handler} reference task`, reference));
      const tokenSamples = await repeat(RUNS, () => tokenRun(`${handler} token`));
      const retrySamples = await repeat(RETRY_RUNS, async () => {
        emu.faults.script(IMDS_TOKEN_ROUTE, { status: 429, headers: { 'Retry-After': '5' }, body: { error: 'too_many_requests', error_description: 'Too many requests' } }, 3);
        const sample = await tokenRun(`${handler} token after 3 × 429`);
        if (emu.faults.pending(IMDS_TOKEN_ROUTE) !== 0) throw new Error('the task did not meet the three 429 answers');
        return sample;
      });
      const infoSamples = await repeat(INFO_RUNS, async (i) => {
        const file = rssFile();
        const json = join(work, `info-${handler}-${i}.json`);
        const run = await runTask({
          taskDir: taskDir('ManagedIdentityInfoV1'),
          nodePath: node,
          env: { ...imdsEnv(emu), ...peak.env(file) },
          inputs: { cloud: 'Custom', armEndpoint: emu.url, armAudience: ARM_AUDIENCE, keyVaultNames: 'kv-bench', listSecretNames: 'true', outputJsonPath: json },
        });
        const found = JSON.parse(readFileSync(json, 'utf8')) as { resources: { value: { resources: unknown[] } }; keyVaults: Array<{ secrets: { value: { secrets: unknown[] } } }> };
        const counts = [found.resources.value.resources.length, found.keyVaults[0].secrets.value.secrets.length];
        if (run.result !== 'Succeeded' || counts[0] !== RESOURCES || counts[1] !== SECRETS) throw new Error(`${handler} info: ${run.result}, ${counts.join('/')} found\n${run.log}\n${run.stderr}`);
        return { wallMs: run.durationMs, peakMb: peak.read(file) };
      });
      handlers.push({ handler, node: nodeVersion, floor: stats(floorSamples), reference: stats(referenceSamples), token: stats(tokenSamples), retry: stats(retrySamples), info: stats(infoSamples) });
    }
    const azBin = findOnPath('az');
    if (azBin) {
      console.log('Azure CLI…');
      const measured = await azPath(azBin, emu, work);
      az = { version: measured.version, stats: stats(measured.samples) };
    } else {
      az = { skipped: 'the Azure CLI (az) is not installed: apt-get install azure-cli to compare with it' };
      console.warn(`SKIPPED the Azure CLI path: ${az.skipped}.`);
    }
  } finally {
    await emu.stop();
  }
  console.log('Identity server…');
  const serve = await benchServe(taskDir('ManagedIdentityTokenV1'));
  report({ handlers, az, sizes, serve });
}

function report(r: {
  handlers: Array<{ handler: string; node: string; floor: Stats; reference: Stats; token: Stats; retry: Stats; info: Stats }>;
  az: { version: string; stats: Stats } | { skipped: string };
  sizes: { vsixBytes: number; taskBytes: Record<string, number> };
  serve: ServeBench;
}): void {
  const date = new Date().toISOString();
  const machine = { host: hostname(), cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), os: `${platform()} ${release()}` };
  const azStats = 'stats' in r.az ? r.az.stats : undefined;
  const mark = (ok: boolean) => (ok ? 'met' : '**not met**');
  const rows = r.handlers.map((h) => {
    const floorRatio = round(h.token.wallMedianMs / h.floor.wallMedianMs, 2);
    const referenceRatio = round(h.reference.wallMedianMs / h.floor.wallMedianMs, 2);
    const azSpeedup = azStats ? round(azStats.wallMedianMs / h.token.wallMedianMs, 1) : undefined;
    const retryOff = round((h.retry.wallMedianMs - TARGETS.retryMs) / TARGETS.retryMs, 3);
    return {
      ...h,
      floorRatio,
      referenceRatio,
      azSpeedup,
      retryOff,
      met: {
        floorRatio: floorRatio <= TARGETS.floorRatio,
        azSpeedup: azSpeedup === undefined ? undefined : azSpeedup >= TARGETS.azSpeedup,
        retry: Math.abs(retryOff) <= TARGETS.retryTolerance,
        // Every run under both limits, not only the median.
        info: h.info.wallMaxMs < TARGETS.infoMs && h.info.peakMaxMb < TARGETS.infoMb,
      },
    };
  });
  const sizesMet = r.sizes.vsixBytes <= TARGETS.vsixBytes && Object.values(r.sizes.taskBytes).every((b) => b <= TARGETS.taskBytes);

  const lines: string[] = [];
  lines.push(`Measured ${date.slice(0, 10)} on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, ${machine.os}. Medians of ${RUNS} runs after a warm-up (${AZ_RUNS} for the Azure CLI, ${RETRY_RUNS} for the 429 case, ${INFO_RUNS} for Info).`, '');
  lines.push('| | ' + r.handlers.map((h) => `${h.handler} (${h.node})`).join(' | ') + ' | Target |');
  lines.push('| --- | ' + r.handlers.map(() => '---').join(' | ') + ' | --- |');
  const row = (label: string, cell: (h: (typeof rows)[number]) => string, target: string) => lines.push(`| ${label} | ${rows.map(cell).join(' | ')} | ${target} |`);
  row('`node -e 0` (floor)', (h) => `${h.floor.wallMedianMs} ms, ${h.floor.peakMedianMb} MB`, '');
  row('reference: task-lib + one GET + one variable', (h) => `${h.reference.wallMedianMs} ms, ${h.reference.peakMedianMb} MB (${h.referenceRatio}×)`, '');
  row('ManagedIdentityToken@1 on IMDS', (h) => `${h.token.wallMedianMs} ms, ${h.token.peakMedianMb} MB`, '');
  row('… ratio to the floor', (h) => `${h.floorRatio}× (${mark(h.met.floorRatio)})`, `≤ ${TARGETS.floorRatio}×`);
  if (azStats && 'version' in r.az) {
    row(`\`az login --identity && az account get-access-token\` (Azure CLI ${r.az.version})`, () => `${azStats.wallMedianMs} ms, ${azStats.peakMedianMb} MB`, '');
    row('… task faster than the Azure CLI by', (h) => `${h.azSpeedup}× (${mark(h.met.azSpeedup === true)})`, `≥ ${TARGETS.azSpeedup}×`);
  } else row('Azure CLI path', () => 'skipped', 'az installed');
  row('Token task, IMDS answers 429 `Retry-After: 5` three times', (h) => `${h.retry.wallMedianMs} ms (${h.retryOff >= 0 ? '+' : ''}${round(h.retryOff * 100)}%, ${mark(h.met.retry)})`, `${TARGETS.retryMs} ms ± ${TARGETS.retryTolerance * 100}%`);
  row(`ManagedIdentityInfo@1, ${RESOURCES} resources, ${SECRETS} secrets`, (h) => `${h.info.wallMedianMs} ms (max ${h.info.wallMaxMs}), ${h.info.peakMedianMb} MB (max ${h.info.peakMaxMb}) (${mark(h.met.info)})`, `< ${TARGETS.infoMs} ms, < ${TARGETS.infoMb} MB`);
  lines.push('');
  const kb = (b: number) => `${Math.round(b / 1024)} KB`;
  lines.push(`Sizes (${mark(sizesMet)}; targets: .vsix ≤ 1.5 MB, each task ≤ 1 MB): .vsix ${kb(r.sizes.vsixBytes)}; ` + Object.entries(r.sizes.taskBytes).map(([t, b]) => `${t} ${kb(b)}`).join(', ') + '.');
  lines.push('', ...serveBenchLines(r.serve));
  console.log(`\n${lines.join('\n')}\n`);

  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${date.slice(0, 10)}-${machine.host}.json`);
  writeFileSync(file, `${JSON.stringify({ date, machine, runs: { token: RUNS, az: AZ_RUNS, retry: RETRY_RUNS, info: INFO_RUNS }, targets: TARGETS, handlers: rows, azureCli: r.az, sizes: { ...r.sizes, met: sizesMet }, identityServer: r.serve }, null, 2)}\n`);
  console.log(`Results: ${file}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
