/**
 * ManagedIdentityToken@1 with serveIdentity, end to end from the bundled task:
 * the step ends while its identity server runs, later steps' requests get the
 * chosen identity (or the one they name), the post-job step stops the server
 * and attaches what it served, and a tampered record stops nothing.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskRun } from '../../emulator/agent';
import { AzureEmulator, ENTRA_TOKEN_ROUTE, IMDS_TOKEN_ROUTE, imdsEnv, workloadIdentityEnv } from '../../emulator';
import { stagedTask } from '../../scripts/paths';
import { newServerSecret } from '../../src/core/identity-server/guard';
import { spawnIdentityServer } from '../../src/core/identity-server/process';
import { decodeJwtClaims } from '../../src/core/jwt';
import { laterStepEnv, rawRequest } from '../helpers/identity-server';
import { useEmulator } from '../helpers/emulator';
import { recordOutput } from '../helpers/scan';
import { until } from '../helpers/wait';
import { runInfoTask, runStagedTask, runTokenTask } from '../helpers/tasks';

describe('ManagedIdentityToken@1 serveIdentity (from the bundled task)', () => {
  let emu: AzureEmulator;
  const started: TaskRun[] = [];
  // Registered first, so it runs before the emulator stops: whatever a test left running is stopped as its post-job step would.
  afterEach(async () => {
    for (const run of started.splice(0)) await postJob(run);
  });
  useEmulator({ systemAssigned: false, userAssigned: ['id-a', 'id-b'] }, (e) => {
    emu = e;
  });

  function serve(inputs: Record<string, string> = {}, env: Record<string, string> = {}): Promise<TaskRun> {
    const b = emu.machine.userAssigned[1];
    const all = { audience: 'AzureResourceManager', identityType: 'userAssigned', identityIdType: 'clientId', identityId: b.clientId, serveIdentity: 'true', ...inputs };
    return runTokenTask(emu, all, { env }).then((run) => {
      started.push(run);
      return run;
    });
  }

  function postJob(run: TaskRun, taskVariables: Map<string, string> = run.taskVariables): Promise<TaskRun> {
    return runStagedTask('ManagedIdentityTokenV1', emu, { stage: 'postjobexecution', taskVariables, variables: { 'Agent.TempDirectory': run.tempDirectory } });
  }

  const port = (run: TaskRun) => Number(new URL(run.variables.get('IDENTITY_ENDPOINT')!.value).port);
  const get = (run: TaskRun, query: string, headers: Record<string, string> = {}) =>
    rawRequest(port(run), `/msi/token?api-version=2019-08-01&${query}`, { headers: { 'X-IDENTITY-HEADER': run.variables.get('IDENTITY_HEADER')!.value, ...headers } });

  it('ends the step while the server runs, sets the variables with the secret masked, and serves the chosen identity', async () => {
    const run = await serve();
    assert.equal(run.result, 'Succeeded', run.log);
    assert.ok(run.durationMs < 30_000, 'the step ended: its process exited and its output closed');
    const [a, b] = emu.machine.userAssigned;
    const v = (n: string) => run.variables.get(n)?.value ?? '';
    const secret = v('IDENTITY_HEADER');
    assert.match(secret, /^[0-9a-f]{64}$/);
    assert.equal(v('MSI_SECRET'), secret);
    assert.match(v('IDENTITY_ENDPOINT'), /^http:\/\/127\.0\.0\.1:\d+\/msi\/token$/);
    assert.equal(v('MSI_ENDPOINT'), v('IDENTITY_ENDPOINT').replace('/msi/token', `/${secret}/msi/token`));
    assert.equal(v('ARM_MSI_ENDPOINT'), v('IDENTITY_ENDPOINT').replace('/msi/token', `/${secret}/metadata/identity/oauth2/token`));
    assert.equal(v('ARM_USE_MSI'), 'true');
    assert.equal(v('AZURE_CLIENT_ID'), b.clientId);
    for (const name of ['IDENTITY_HEADER', 'MSI_SECRET', 'MSI_ENDPOINT']) assert.equal(run.variables.get(name)?.secret, false, `${name} reaches scripts without env: mapping`);
    // Registered for masking before any command carries it, and never shown.
    const lines = run.stdout.split(/\r?\n/);
    const masked = lines.findIndex((l) => l === `##vso[task.setsecret]${secret}`);
    assert.ok(masked >= 0, 'the secret is registered with the agent');
    lines.forEach((l, i) => assert.ok(!l.includes(secret) || (i >= masked && l.startsWith('##vso[task.')), `line ${i} shows the secret`));
    assert.ok(!run.log.includes(secret));
    for (const s of run.summaries) assert.ok(!readFileSync(s.file, 'utf8').includes(secret), 'the summary names the variables, never the secret');
    assert.match(run.log, /Identity server started for later steps/);

    // A later step: the chosen identity without naming it; the other one when named.
    const plain = await get(run, 'resource=https%3A%2F%2Fvault.azure.net');
    assert.equal(decodeJwtClaims(String(plain.json.access_token))?.oid, b.objectId);
    const named = await get(run, `resource=https%3A%2F%2Fvault.azure.net&client_id=${a.clientId}`);
    assert.equal(decodeJwtClaims(String(named.json.access_token))?.oid, a.objectId);
    // A hostile client: its User-Agent must reach the summary inert (no logging command, no table break, no code span break).
    await get(run, 'resource=https%3A%2F%2Fvault.azure.net', { 'User-Agent': 'evil ##vso[task.setvariable variable=X]y | `x` ##[error]z' });
    const refused = await get(run, 'resource=https%3A%2F%2Fvault.azure.net', { 'X-IDENTITY-HEADER': 'wrong' });
    assert.equal(refused.status, 401);

    const post = await postJob(run);
    started.splice(started.indexOf(run), 1);
    assert.equal(post.result, 'Succeeded', post.log);
    assert.match(post.log, /Identity server stopped \(process \d+, port \d+\)\. Answers: 3; upstream token requests: 2; requests refused: 1\./);
    assert.equal(post.summaries.length, 1);
    assert.equal(post.summaries[0].title, 'Identity served to later steps');
    const summary = readFileSync(post.summaries[0].file, 'utf8');
    recordOutput('serve summary', summary, emu);
    assert.match(summary, /\| `https:\/\/vault\.azure\.net` \| user-assigned \(client ID [0-9a-f-]+\) \| 2 \|/);
    assert.ok(!/##vso\[|##\[/i.test(summary), 'no logging command or log format from a client in the summary');
    assert.ok(summary.includes('`evil ##_vso[task.setvariable variable=X]y x ##_[error]z`'), 'the User-Agent inert, in one code span');
    assert.match(summary, new RegExp(`user-assigned \\(client ID ${a.clientId}\\), named by the request \\| 1 \\|`));
    assert.match(summary, /Refused requests: unauthorized 1/);
    await assert.rejects(get(run, 'resource=https%3A%2F%2Fvault.azure.net'), /ECONNREFUSED/, 'stopped');
  });

  it('is detected by a later ManagedIdentityToken@1 and ManagedIdentityInfo@1 like any App Service endpoint, which get the chosen identity', async () => {
    const run = await serve();
    const before = emu.received(IMDS_TOKEN_ROUTE).length;
    const later = await runTokenTask(emu, { audience: 'KeyVault', variableName: 'Later' }, { env: laterStepEnv(run) });
    assert.equal(later.result, 'Succeeded', later.log);
    assert.match(later.log, /App Service managed identity \(IDENTITY_ENDPOINT\)/);
    assert.equal(decodeJwtClaims(later.variables.get('Later')!.value)?.oid, emu.machine.userAssigned[1].objectId);
    assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, before + 1, 'through the server to IMDS');
    const info = await runInfoTask(emu, { sections: 'identity' }, { env: laterStepEnv(run) });
    assert.equal(info.result, 'Succeeded', info.log);
    assert.match(info.log, /from the App Service managed identity \(IDENTITY_ENDPOINT\)/);
    assert.ok(info.log.includes(emu.machine.userAssigned[1].objectId), 'ManagedIdentityInfo@1 sees the chosen identity');
  });

  it('serves from the source the task detected: workload identity (AKS), each answer a token exchanged at Entra ID', async () => {
    const b = emu.machine.userAssigned[1];
    const run = await runTokenTask(emu, { audience: 'AzureResourceManager', serveIdentity: 'true' }, { env: workloadIdentityEnv(emu, { identity: b }) });
    started.push(run);
    assert.equal(run.result, 'Succeeded', run.log);
    assert.match(run.log, /Identity server started .* from Microsoft Entra ID \(workload identity\)\./);
    const before = emu.received(ENTRA_TOKEN_ROUTE).length;
    const answer = await get(run, 'resource=https%3A%2F%2Fvault.azure.net');
    assert.equal(decodeJwtClaims(String(answer.json.access_token))?.oid, b.objectId);
    assert.equal(emu.received(ENTRA_TOKEN_ROUTE).length, before + 1);
    assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 0, 'never IMDS');
  });

  it('with exportTerraformEnv: Terraform gets its subscription and tenant, and the server as ARM_MSI_ENDPOINT, each listed once', async () => {
    const run = await serve({ exportTerraformEnv: 'true' });
    assert.equal(run.result, 'Succeeded', run.log);
    assert.equal(run.variables.get('ARM_SUBSCRIPTION_ID')?.value, emu.machine.subscriptionId);
    assert.equal(run.variables.get('ARM_CLIENT_ID')?.value, emu.machine.userAssigned[1].clientId);
    assert.match(run.variables.get('ARM_MSI_ENDPOINT')?.value ?? '', /^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{64}\/metadata\/identity\/oauth2\/token$/);
    const summary = readFileSync(run.summaries[0].file, 'utf8');
    assert.equal(summary.split('\n').filter((l) => l.startsWith('| `ARM_MSI_ENDPOINT`')).length, 1);
    // Terraform's request names the client ID it was given: the chosen identity, from the same cache entry.
    const tf = await rawRequest(port(run), `${new URL(run.variables.get('ARM_MSI_ENDPOINT')!.value).pathname}?api-version=2018-02-01&resource=${encodeURIComponent('https://management.azure.com/')}&client_id=${emu.machine.userAssigned[1].clientId}`, { headers: { Metadata: 'true' } });
    assert.equal(decodeJwtClaims(String(tf.json.access_token))?.oid, emu.machine.userAssigned[1].objectId);
  });

  it('refuses an audience outside allowedAudiences, naming the input', async () => {
    const run = await serve({ allowedAudiences: 'AzureResourceManager\nhttps://storage.azure.com/' });
    assert.equal(run.result, 'Succeeded', run.log);
    const vault = await get(run, 'resource=https%3A%2F%2Fvault.azure.net');
    assert.equal(vault.status, 403);
    assert.match(String(vault.json.message), /not in the allowedAudiences input/);
    assert.equal((await get(run, 'resource=https%3A%2F%2Fmanagement.azure.com')).status, 200);
    const typo = await runTokenTask(emu, { audience: 'AzureResourceManager', serveIdentity: 'true', allowedAudiences: 'AzureResourceManager\nhttps://a.example https://b.example' });
    assert.equal(typo.result, 'Failed');
    assert.match(typo.resultMessage ?? '', /^allowedAudiences: /);
    assert.equal(typo.variables.get('IDENTITY_ENDPOINT'), undefined, 'no server for a bad input');
  });

  it('gives two jobs on one machine two servers with different secrets, each carrying its job\'s process lookup ID (by which the agent ends it)', async function () {
    const one = await serve({}, { VSTS_PROCESS_LOOKUP_ID: 'job-one' });
    const two = await serve({}, { VSTS_PROCESS_LOOKUP_ID: 'job-two' });
    assert.notEqual(port(one), port(two));
    assert.notEqual(one.variables.get('IDENTITY_HEADER')!.value, two.variables.get('IDENTITY_HEADER')!.value);
    const foreign = await get(one, 'resource=https%3A%2F%2Fmanagement.azure.com', { 'X-IDENTITY-HEADER': two.variables.get('IDENTITY_HEADER')!.value });
    assert.equal(foreign.status, 401, "one job's secret does not open the other's server");
    if (process.platform !== 'linux') return;
    for (const [run, id] of [[one, 'job-one'], [two, 'job-two']] as const) {
      const pid = (JSON.parse(run.taskVariables.get('ManagedIdentityToken.identityServer')!) as { pid: number }).pid;
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      assert.ok(environ.includes(`VSTS_PROCESS_LOOKUP_ID=${id}`), `server ${pid} carries its job's lookup ID`);
    }
  });

  it('a post-job step with a tampered record stops nothing and trusts no answer', async () => {
    const run = await serve();
    const record = JSON.parse(run.taskVariables.get('ManagedIdentityToken.identityServer')!) as { port: number; pid: number; key: string };
    const forged = (r: unknown) => new Map([['ManagedIdentityToken.identityServer', JSON.stringify(r)]]);
    const wrongKey = await postJob(run, forged({ ...record, key: 'a'.repeat(64) }));
    assert.match(wrongKey.log, /is not this job's identity server \(refused\)/);
    const otherPort = await postJob(run, forged({ ...record, port: Number(new URL(emu.url).port) }));
    assert.match(otherPort.log, /is not this job's identity server/);
    const broken = await postJob(run, forged({ ...record, port: 'x; rm -rf /' }));
    assert.match(broken.log, /record of this step is not valid/);
    for (const p of [wrongKey, otherPort, broken]) assert.equal(p.result, 'Succeeded');
    assert.equal((await get(run, 'resource=https%3A%2F%2Fmanagement.azure.com')).status, 200, 'still serving');
  });

  it('a server that stopped on its own (idle) leaves a signed report, which the post-job step shows; a forged one is not believed', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'agent-temp-'));
    // idleMs: the own server must not idle out before the test's request reaches it on a loaded machine; the forged one gets none.
    const start = async (name: string, idleMs: number) => {
      const key = newServerSecret();
      const secret = newServerSecret();
      const reportFile = join(temp, name);
      const config = { secret, controlKey: key, chosen: { kind: 'system' as const }, upstream: { identitySource: 'imds' as const, timeoutSeconds: 10 }, idleMs, reportFile };
      const started = await spawnIdentityServer(process.execPath, join(stagedTask('ManagedIdentityTokenV1'), 'serve.js'), config, 15_000, { ...process.env, ...imdsEnv(emu), AGENT_TEMPDIRECTORY: temp });
      return { ...started, key, secret, reportFile };
    };
    const postWith = (record: object) =>
      runStagedTask('ManagedIdentityTokenV1', emu, { stage: 'postjobexecution', taskVariables: new Map([['ManagedIdentityToken.identityServer', JSON.stringify(record)]]), variables: { 'Agent.TempDirectory': temp } });

    const own = await start('ManagedIdentityToken-server-0123456789abcdef.json', 2000);
    const grant = emu.machine.userAssigned[0];
    await rawRequest(own.port, `/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fvault.azure.net&client_id=${grant.clientId}`, { headers: { 'X-IDENTITY-HEADER': own.secret } });
    await until(() => existsSync(own.reportFile), 'the idle server to write its report');
    const post = await postWith({ port: own.port, pid: own.pid, key: own.key, reportFile: own.reportFile });
    assert.match(post.log, /had stopped on its own \(idle: .*\)\. Answers: 1; upstream token requests: 1; requests refused: 0\./);
    assert.match(readFileSync(post.summaries[0].file, 'utf8'), /`https:\/\/vault\.azure\.net`/);
    assert.ok(!existsSync(own.reportFile), 'the report is removed');

    // A file with the right name but a proof made without the key: nothing is shown from it.
    const forged = await start('ManagedIdentityToken-server-fedcba9876543210.json', 400);
    await until(() => existsSync(forged.reportFile), 'the idle server to write its report');
    writeFileSync(forged.reportFile, JSON.stringify({ body: JSON.stringify({ rows: [{ audience: 'forged', identity: 'x', count: 9, first: '', last: '', protocols: [], userAgents: [] }], refused: {}, startedAt: '' }), proof: 'a'.repeat(64) }));
    const notBelieved = await postWith({ port: forged.port, pid: forged.pid, key: forged.key, reportFile: forged.reportFile });
    assert.match(notBelieved.log, /had already stopped/);
    assert.equal(notBelieved.summaries.length, 0);
    // A record naming a file outside the job's temporary folder is not read at all.
    const outside = await postWith({ port: forged.port, pid: forged.pid, key: forged.key, reportFile: '/etc/passwd' });
    assert.match(outside.log, /had already stopped/);
  });
});
