/** ManagedIdentityInfo@1 end to end: the bundled task run as the agent runs it, against the emulator. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_SERVICE_TOKEN_ROUTE, appServiceEnv, ARM_ROUTES, AzureEmulator, IMDS_INSTANCE_ROUTE, IMDS_TOKEN_ROUTE, KEYVAULT_ROUTES, worldOf } from '../../emulator';
import { startProxy } from '../helpers/proxy';
import { recordOutput } from '../helpers/scan';
import { runInfoTask } from '../helpers/tasks';
import { useEmulator } from '../helpers/emulator';

/** The rows of the markdown table under a bold title. */
function tableRows(summary: string, title: RegExp): string[] {
  const at = summary.split('\n').findIndex((l) => title.test(l));
  assert.ok(at >= 0, `no table ${title}`);
  const rows: string[] = [];
  for (const line of summary.split('\n').slice(at + 4)) {
    if (!line.startsWith('|')) break;
    rows.push(line);
  }
  return rows;
}

/** A loopback URL where nothing listens: a host without an Instance Metadata Service. */
async function closedLoopbackUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

describe('ManagedIdentityInfo@1', () => {
  let emu: AzureEmulator;
  useEmulator({ userAssigned: ['id-norole'], extraResources: ['https://vault.usgovcloudapi.net'] }, (e) => {
    emu = e;
  });

  it('on an agent of an agent cloud (Agent.IsSelfHosted = 0) with no identity endpoint, adds the ways out of a Microsoft-hosted agent', async () => {
    const run = await runInfoTask(emu, { sections: 'identity' }, { env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: await closedLoopbackUrl() }, variables: { 'Agent.IsSelfHosted': '0' } });
    assert.notEqual(run.result, 'Succeeded', run.log);
    assert.match(run.log, /No managed identity endpoint answered.*Agent\.IsSelfHosted = 0: .*Microsoft-hosted agents.*AzureCLI@2 with a workload identity federation service connection/);
  });

  it('shows every section in the log, the summary and the JSON, and succeeds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'info-'));
    const run = await runInfoTask(emu, { keyVaultNames: 'kv-agents\nkv-legacy', listSecretNames: 'true', outputJsonPath: join(dir, 'out', 'info.json') });
    assert.equal(run.result, 'Succeeded', run.log);
    assert.equal(run.stderr, '');
    assert.deepEqual(run.summaries.map((s) => s.title), ['Managed identity - who it is and what it can reach']);
    const summaryFile = run.summaries[0].file;
    assert.equal(statSync(summaryFile).mode & 0o777, 0o600, 'the summary file is the agent user\'s alone, as the token task\'s');
    const m = emu.machine;
    const oid = m.systemAssigned!.objectId;
    for (const heading of ['Identity', 'Instance', 'Key Vault kv-agents', 'Secrets in kv-agents', 'Key Vault kv-legacy', `Resources in ${m.resourceGroup}`, `Permissions in ${m.resourceGroup}`]) {
      assert.ok(run.log.includes(`##[section]${heading}\n`), heading);
      assert.ok(run.summary.includes(`### ${heading}\n`), heading);
    }
    for (const line of [
      `Object (principal) ID    ${oid}`,
      `Azure environment     AzurePublicCloud`,
      'Data access        Azure RBAC (role assignments decide)',
      'Data access        access policies (1 in the vault)',
      "This identity's access policy: secrets: get, list; keys: none; certificates: none.",
      'This identity can list secrets in kv-agents: yes (the task listed them).',
      'This identity can read secret values in kv-legacy: yes (from the vault\'s access policies).',
      `This identity can read the resource group ${m.resourceGroup}: yes.`,
      'This identity can read the vault kv-agents in Resource Manager: yes.',
    ]) {
      assert.ok(run.log.includes(line), line);
    }
    assert.ok(run.summary.includes(`| Object (principal) ID | ${oid} |`));
    assert.ok(run.summary.includes('- This identity can list secrets in kv-agents: **yes** (the task listed them).'));
    assert.ok(run.summary.includes('| Microsoft.KeyVault/vaults | 2 |'));
    // Every token it used (Resource Manager, Key Vault) is registered with the log masking, with its segments.
    assert.ok(emu.minted.length >= 2);
    for (const { token } of emu.minted) for (const secret of [token, ...token.split('.').slice(1)]) assert.ok(run.secrets.includes(secret));

    const file = join(dir, 'out', 'info.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'out')).mode & 0o777, 0o700, 'the folder the task created for it too');
    assert.deepEqual(run.outputs.get('InfoJsonPath'), { value: file, secret: false, output: true });
    const text = readFileSync(file, 'utf8');
    recordOutput('info.json', text, emu, false);
    const json = JSON.parse(text) as { task: string; resources: { value: { resources: unknown[] } }; identity: { value: { objectId: string } } };
    assert.equal(json.task, 'ManagedIdentityInfo@1');
    assert.equal(json.identity.value.objectId, oid);
    assert.equal(json.resources.value.resources.length, worldOf(emu).resources.length);
  });

  it('cuts the summary’s resource table to 200 rows and counts the rest; the log and the JSON have all', async () => {
    const world = worldOf(emu);
    world.addResources(300);
    world.resourcePageSize = 100;
    const total = world.resources.length;
    const dir = mkdtempSync(join(tmpdir(), 'info-'));
    const run = await runInfoTask(emu, { sections: 'resources', outputJsonPath: join(dir, 'info.json') });
    assert.equal(run.result, 'Succeeded', run.log);
    assert.equal(tableRows(run.summary, new RegExp(`^\\*\\*All ${total} resources\\*\\*$`)).length, 200);
    assert.ok(run.summary.includes(`_… and ${total - 200} more rows: the log and the JSON output (outputJsonPath) have them all._`));
    assert.ok(run.log.includes(`##[group]All ${total} resources`));
    for (const r of world.resources) assert.ok(run.log.includes(`    ${r.name} `), r.name);
    assert.equal(emu.received(ARM_ROUTES.resources).length, Math.ceil(total / 100));
    const json = JSON.parse(readFileSync(join(dir, 'info.json'), 'utf8')) as { resources: { value: { resources: unknown[] } } };
    assert.equal(json.resources.value.resources.length, total);
  });

  it('obeys no ##vso[ command hidden in what Azure returns (a VM tag value)', async () => {
    worldOf(emu).vm.tags.push({ name: 'note', value: '##vso[task.setvariable variable=Injected]yes' });
    const run = await runInfoTask(emu, { sections: 'instance' });
    assert.equal(run.result, 'Succeeded', run.log);
    assert.match(run.log, /note=/);
    assert.ok(!run.commands.some((c) => c.properties.variable === 'Injected'), 'the tag set no variable');
    assert.ok(!run.variables.has('Injected') && !run.outputs.has('Injected'));
  });

  it('lists secret names and attributes, never a value', async () => {
    const vault = worldOf(emu).addVault({ name: 'kv-names', rbac: false, secrets: 40, accessPolicies: [{ objectId: emu.machine.systemAssigned!.objectId, secrets: ['list'] }] });
    const dir = mkdtempSync(join(tmpdir(), 'info-'));
    const run = await runInfoTask(emu, { sections: 'keyVault', keyVaultNames: 'kv-names', listSecretNames: 'true', outputJsonPath: join(dir, 'info.json') });
    assert.equal(run.result, 'Succeeded', run.log);
    const json = readFileSync(join(dir, 'info.json'), 'utf8');
    recordOutput('info.json', json, emu, false);
    for (const s of vault.secrets) {
      assert.ok(run.log.includes(s.name) && run.summary.includes(`| ${s.name} |`) && json.includes(s.name), s.name);
      for (const text of [run.stdout, run.summary, json]) assert.ok(!text.includes(s.value));
    }
    assert.ok(run.log.includes('This identity can read secret values in kv-names: no (from the vault\'s access policies).'));
    assert.equal(emu.received(KEYVAULT_ROUTES.secret).length, 0);
    assert.equal(emu.received(KEYVAULT_ROUTES.secrets).length, 2);
  });

  it('answers the Key Vault 401 challenge with a token for the resource it names', async () => {
    worldOf(emu).vault('kv-agents')!.audience = 'https://vault.usgovcloudapi.net';
    const run = await runInfoTask(emu, { sections: 'keyVault', keyVaultNames: 'kv-agents', listSecretNames: 'true' });
    assert.equal(run.result, 'Succeeded', run.log);
    assert.ok(run.log.includes('3 secrets in kv-agents'));
    const resources = emu.received(IMDS_TOKEN_ROUTE).map((r) => new URL(r.url, 'http://x').searchParams.get('resource'));
    assert.deepEqual(resources, ['https://management.azure.com/', 'https://vault.azure.net', 'https://vault.usgovcloudapi.net']);
  });

  it('shows a failing section as a warning with advice and ends SucceededWithIssues', async () => {
    const uai = emu.machine.userAssigned[0];
    const inputs = { identityType: 'userAssigned', identityIdType: 'clientId', identityId: uai.clientId, keyVaultNames: 'kv-agents' };
    const run = await runInfoTask(emu, inputs);
    assert.equal(run.result, 'SucceededWithIssues', run.log);
    assert.match(run.resultMessage ?? '', /Done; 2 section\(s\) had a problem.*failOnError/);
    assert.match(run.log, /##\[warning\]Key Vault kv-agents: No Key Vault named 'kv-agents' is visible to this identity/);
    assert.match(run.log, new RegExp(`##\\[warning\\]Resources in ${emu.machine.resourceGroup}: Azure Resource Manager refused: the identity \\(object ID ${uai.objectId}\\) may not perform Microsoft\\.Resources/subscriptions/resourceGroups/read on ${worldOf(emu).groupId(emu.machine.resourceGroup)}\\. .*--role "Reader"`));
    assert.ok(run.log.includes(`This identity can read the resource group ${emu.machine.resourceGroup}: no.`));
    assert.match(run.summary, /> \*\*Warning:\*\* Resources in .*: Azure Resource Manager refused/);
  });

  it('fails with failOnError', async () => {
    const uai = emu.machine.userAssigned[0];
    const run = await runInfoTask(emu, { identityType: 'userAssigned', identityIdType: 'objectId', identityId: uai.objectId, sections: 'identity,resources', failOnError: 'true' });
    assert.equal(run.result, 'Failed');
    assert.match(run.resultMessage ?? '', /1 section\(s\) had a problem, and failOnError is true/);
    assert.ok(run.log.includes(`Object (principal) ID    ${uai.objectId}`), 'the sections that work are still shown');
  });

  it('refuses a plain-http Resource Manager that is not loopback, before any token is asked for', async () => {
    const run = await runInfoTask(emu, { armEndpoint: 'http://management.contoso.invalid/' });
    assert.equal(run.result, 'Failed');
    assert.match(run.resultMessage ?? '', /Refusing to send a token to http:\/\/management\.contoso\.invalid: tokens are only sent over https/);
    assert.equal(emu.requests.length, 0);
  });

  it('fails on bad inputs before any request: sections, vault names, subscription ID, keyVault without vaults', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ sections: 'identity,secrets' }, /sections holds 'secrets'/],
      [{ keyVaultNames: 'kv_prod' }, /keyVaultNames holds 'kv_prod'/],
      [{ subscriptionId: 'prod' }, /subscriptionId 'prod' is not a subscription ID/],
      [{ sections: 'keyVault' }, /keyVaultNames is empty/],
    ];
    for (const [inputs, pattern] of cases) {
      const run = await runInfoTask(emu, inputs);
      assert.deepEqual([run.result, emu.requests.length], ['Failed', 0], JSON.stringify(inputs));
      assert.match(run.resultMessage ?? '', pattern);
    }
  });

  it('needs subscriptionId and resourceGroup where there is no instance metadata', async () => {
    emu.faults.script(IMDS_INSTANCE_ROUTE, { reset: true });
    const run = await runInfoTask(emu, {});
    assert.equal(run.result, 'Failed');
    assert.match(run.resultMessage ?? '', /subscriptionId and resourceGroup are needed.*Give both inputs/);
    emu.faults.script(IMDS_INSTANCE_ROUTE, { reset: true });
    const given = await runInfoTask(emu, { subscriptionId: emu.machine.subscriptionId, resourceGroup: emu.machine.resourceGroup });
    assert.equal(given.result, 'Succeeded', given.log);
    assert.ok(!given.log.includes('##[section]Instance'));
  });

  for (const identitySource of ['appService', 'auto']) {
    it(`takes its tokens from identitySource ${identitySource} on App Service, says why the instance is not shown, and reads Resource Manager and Key Vault`, async () => {
      const m = emu.machine;
      const dir = mkdtempSync(join(tmpdir(), 'info-'));
      const inputs = { identitySource, subscriptionId: m.subscriptionId, resourceGroup: m.resourceGroup, keyVaultNames: 'kv-agents', listSecretNames: 'true', outputJsonPath: join(dir, 'info.json') };
      const env = { ...appServiceEnv(emu), AZURE_POD_IDENTITY_AUTHORITY_HOST: await closedLoopbackUrl() };
      const run = await runInfoTask(emu, inputs, { env });
      assert.equal(run.result, 'Succeeded', run.log);
      assert.ok(!run.log.includes('##[section]Instance') && !run.log.includes('##[warning]'), run.log);
      const skipped = /Instance: not shown\. The Instance Metadata Service \(http:\/\/127\.0\.0\.1:\d+\) did not answer: .*not on an Azure VM or scale set.*the Resource Manager sections still run/;
      assert.match(run.log, skipped);
      assert.match(run.summary, skipped);
      assert.ok(run.log.includes('App Service managed identity (IDENTITY_ENDPOINT)'), 'the identity section names the source');
      for (const heading of ['Identity', 'Key Vault kv-agents', 'Secrets in kv-agents', `Resources in ${m.resourceGroup}`, `Permissions in ${m.resourceGroup}`]) {
        assert.ok(run.log.includes(`##[section]${heading}\n`), heading);
      }
      assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 0, 'no token from IMDS');
      const resources = emu.received(APP_SERVICE_TOKEN_ROUTE).map((r) => new URL(r.url, 'http://x').searchParams.get('resource'));
      assert.deepEqual(resources, ['https://management.azure.com/', 'https://vault.azure.net']);
      const json = JSON.parse(readFileSync(join(dir, 'info.json'), 'utf8')) as { sections: string[]; instance?: unknown; instanceSkipped?: string };
      assert.deepEqual(json.sections, ['identity', 'keyVault', 'resources', 'permissions']);
      assert.equal(json.instance, undefined);
      assert.match(json.instanceSkipped ?? '', /did not answer/);
    });
  }

  it('replaces an existing outputJsonPath file with a new one that only the agent user may read', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'info-')), 'info.json');
    writeFileSync(file, 'old and world-readable', { mode: 0o644 });
    const old = statSync(file).ino;
    const run = await runInfoTask(emu, { sections: 'identity', outputJsonPath: file });
    assert.equal(run.result, 'Succeeded', run.log);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.notEqual(statSync(file).ino, old, 'a new file renamed over the old one, not the old one rewritten');
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { task: string }).task, 'ManagedIdentityInfo@1');
  });

  it('waits at least its back-off when Resource Manager throttles with Retry-After: 0', async () => {
    emu.faults.script(ARM_ROUTES.resources, { status: 429, headers: { 'Retry-After': '0' }, body: { error: { code: 'TooManyRequests', message: 'slow down' } } });
    const run = await runInfoTask(emu, { sections: 'resources' }, { variables: { 'System.Debug': 'true' } });
    assert.equal(run.result, 'Succeeded', run.log);
    assert.match(run.log, /##\[debug\]Attempt 1 at Azure Resource Manager failed \(HTTP 429\); retrying in (0\.[89]|1\.[0-2]) s\./);
  });

  it('reaches Resource Manager and Key Vault through the agent proxy and certificates, and IMDS directly', async () => {
    const proxy = await startProxy();
    try {
      const run = await runInfoTask(
        emu,
        { armEndpoint: emu.httpsUrl, keyVaultNames: 'kv-agents', listSecretNames: 'true' },
        { variables: { 'Agent.ProxyUrl': proxy.url, 'Agent.CAInfo': emu.tls.pemFile } },
      );
      assert.equal(run.result, 'Succeeded', run.log);
      assert.ok(run.log.includes(`Vault URI          ${emu.httpsUrl}/keyvault/kv-agents/`));
      const tunnels = new Set(proxy.seen.map((r) => r.url));
      assert.deepEqual([...tunnels], [new URL(emu.httpsUrl).host], 'only the HTTPS (ARM, Key Vault) host went through the proxy');
      assert.ok(emu.received(IMDS_TOKEN_ROUTE).length > 0 && emu.received(IMDS_INSTANCE_ROUTE).length > 0);
    } finally {
      proxy.close();
    }
  });
});
