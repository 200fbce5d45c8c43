/**
 * ManagedIdentityToken@1 for later tools, end to end through the bundled task:
 * the Azure CLI login (with a stand-in az that records its calls; the real
 * CLI is in azure-cli.test.ts), the post-job clean-up, the Azure DevOps CLI
 * and the Azure DevOps check, Terraform's environment, and the summary.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AzureEmulator, DEVOPS_CONNECTION_DATA_ROUTE, devopsOf, IMDS_INSTANCE_ROUTE, IMDS_TOKEN_ROUTE } from '../../emulator';
import type { RunTaskOptions, TaskRun } from '../../emulator/agent';
import { jwtSecretSegments } from '../../src/core/jwt';
import { FakeAzCall, installFakeAz } from '../fixtures/fake-az';
import { recordOutput } from '../helpers/scan';
import { runStagedTask, runTokenTask } from '../helpers/tasks';
import { withConnectProxy } from '../helpers/proxy';
import { useEmulator } from '../helpers/emulator';

const SUB = '00000000-1111-4222-8333-444444444444';
const OTHER_SUB = '11111111-2222-4333-8444-555555555555';

describe('ManagedIdentityToken@1 for later tools', () => {
  let emu: AzureEmulator;
  let fakeAz: string;
  let azLog: string;
  useEmulator({ userAssigned: ['id-a', 'id-b'] }, (e) => {
    emu = e;
    fakeAz = installFakeAz();
    azLog = join(mkdtempSync(join(tmpdir(), 'az-log-')), 'calls.jsonl');
  });

  function accounts(extra: Array<{ id: string; name: string }> = []): string {
    const list = [{ id: SUB, name: 'Emulated Subscription', isDefault: true }, ...extra.map((e) => ({ ...e, isDefault: false }))];
    return JSON.stringify(list.map((a) => ({ ...a, tenantId: emu.machine.tenantId, state: 'Enabled', user: { name: 'systemAssignedIdentity', type: 'servicePrincipal' } })));
  }

  function withAz(options: Omit<RunTaskOptions, 'taskDir' | 'inputs'> = {}): Omit<RunTaskOptions, 'taskDir' | 'inputs'> {
    return {
      ...options,
      env: { PATH: `${fakeAz}:${process.env.PATH ?? ''}`, FAKE_AZ_LOG: azLog, FAKE_AZ_ACCOUNTS: accounts(), ...options.env },
    };
  }

  function azCalls(): FakeAzCall[] {
    return existsSync(azLog) ? readFileSync(azLog, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as FakeAzCall) : [];
  }

  function postJob(run: TaskRun, env: Record<string, string> = {}): Promise<TaskRun> {
    return runStagedTask('ManagedIdentityTokenV1', emu, {
      stage: 'postjobexecution',
      taskVariables: run.taskVariables,
      variables: { 'Agent.TempDirectory': run.tempDirectory },
      env: { PATH: `${fakeAz}:${process.env.PATH ?? ''}`, FAKE_AZ_LOG: azLog, ...env },
    });
  }

  function summaryOf(run: TaskRun): string {
    assert.equal(run.summaries.length, 1, 'one summary attached');
    assert.match(run.summaries[0].title, /^Managed identity token [\w.]+$/, 'a section title without the file name');
    assert.equal(statSync(run.summaries[0].file).mode & 0o777, 0o600, "the summary file is the agent user's alone");
    const text = readFileSync(run.summaries[0].file, 'utf8');
    recordOutput('summary', text, emu, false);
    return text;
  }

  describe('azLogin', () => {
    it('signs in the selected identity into a private AZURE_CONFIG_DIR that later steps get', async () => {
      const uai = emu.machine.userAssigned[0];
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager', azLogin: 'true', identityType: 'userAssigned', identityIdType: 'clientId', identityId: uai.clientId }, withAz());
      assert.equal(run.result, 'Succeeded', run.log);
      const dir = run.variables.get('AZURE_CONFIG_DIR');
      assert.ok(dir && !dir.secret, 'AZURE_CONFIG_DIR is a plain variable');
      assert.ok(dir.value.startsWith(run.tempDirectory), 'under Agent.TempDirectory');
      assert.equal(statSync(dir.value).mode & 0o777, 0o700);
      const calls = azCalls();
      assert.deepEqual(calls.map((c) => c.args.slice(0, 2).join(' ')), ['version --output', 'login --identity']);
      assert.ok(calls.every((c) => c.configDir === dir.value), 'every az call used the private directory');
      assert.deepEqual(calls[1].args, ['login', '--identity', '--username', uai.clientId, '--output', 'json']);
      const record = JSON.parse(run.taskVariables.get('ManagedIdentityToken.azLogin') ?? '{}') as { marker?: string };
      assert.match(record.marker ?? '', /^[0-9a-f]{32}$/, 'a random marker');
      assert.deepEqual(record, { configDir: dir.value, createdConfigDir: true, user: 'userAssignedIdentity', timeoutSeconds: 120, marker: record.marker });
      assert.equal(readFileSync(join(dir.value, '.managed-identity-token'), 'utf8'), record.marker, 'the folder holds the marker');
      assert.match(run.log, /signed in to subscription 'Emulated Subscription' \(00000000-1111-4222-8333-444444444444\)/);
    });

    for (const [kind, flag] of [['clientId', '--client-id'], ['objectId', '--object-id'], ['resourceId', '--resource-id']] as const) {
      it(`names the identity with ${flag} on Azure CLI 2.69 and later, --username before`, async () => {
        const uai = emu.machine.userAssigned[1];
        const inputs = { audience: 'AzureResourceManager', azLogin: 'true', identityType: 'userAssigned', identityIdType: kind, identityId: uai[kind] };
        const recent = await runTokenTask(emu, inputs, withAz({ env: { FAKE_AZ_VERSION: '2.69.0' } }));
        assert.equal(recent.result, 'Succeeded', recent.log);
        assert.deepEqual(azCalls().find((c) => c.args[0] === 'login')?.args.slice(2, 4), [flag, uai[kind]]);
        if (kind !== 'objectId') return;
        const old = await runTokenTask(emu, inputs, withAz({ env: { FAKE_AZ_VERSION: '2.68.9' } }));
        assert.equal(old.result, 'Succeeded', old.log);
        assert.deepEqual(azCalls().filter((c) => c.args[0] === 'login')[1].args.slice(2, 4), ['--username', uai.objectId]);
      });
    }

    it('allows no subscriptions when asked, and selects a subscription by name with az account set', async () => {
      const run = await runTokenTask(
        emu,
        { audience: 'AzureResourceManager', azLogin: 'true', azAllowNoSubscriptions: 'true', azSubscription: 'contoso production' },
        withAz({ env: { FAKE_AZ_ACCOUNTS: accounts([{ id: OTHER_SUB, name: 'Contoso Production' }]) } }),
      );
      assert.equal(run.result, 'Succeeded', run.log);
      const calls = azCalls().map((c) => c.args);
      assert.ok(calls.find((a) => a[0] === 'login')?.includes('--allow-no-subscriptions'));
      assert.deepEqual(calls.at(-1), ['account', 'set', '--subscription', OTHER_SUB]);
      assert.match(run.log, /subscription 'Contoso Production' \(11111111/);
    });

    it('fails with the subscriptions it sees when the one asked for is not among them', async () => {
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager', azLogin: 'true', azSubscription: OTHER_SUB }, withAz());
      assert.equal(run.result, 'Failed');
      assert.match(run.resultMessage ?? '', /cannot see the subscription '11111111-.*It sees: Emulated Subscription \(00000000-/);
    });

    it('registers a Custom cloud from its Resource Manager URL and switches to a preset cloud', async () => {
      const custom = await runTokenTask(emu, { audience: 'AzureResourceManager', azLogin: 'true', cloud: 'Custom', armEndpoint: 'https://management.local.azurestack.external/', armAudience: 'https://management.azure.com/' }, withAz());
      assert.equal(custom.result, 'Succeeded', custom.log);
      const calls = azCalls().map((c) => c.args);
      assert.deepEqual(calls[1], ['cloud', 'register', '--name', 'ManagedIdentityCustomCloud', '--endpoint-resource-manager', 'https://management.local.azurestack.external', '--endpoint-active-directory-resource-id', 'https://management.azure.com/']);
      assert.deepEqual(calls[2], ['cloud', 'set', '--name', 'ManagedIdentityCustomCloud']);
      const gov = await runTokenTask(emu, { audience: 'AzureResourceManager', azLogin: 'true', cloud: 'AzureUSGovernment' }, withAz());
      assert.equal(gov.result, 'Succeeded', gov.log);
      assert.ok(azCalls().some((c) => c.args.join(' ') === 'cloud set --name AzureUSGovernment'));
    });

    it('does not obey ##vso commands in what az prints', async () => {
      const evil = '##vso[task.setvariable variable=INJECTED]pwned';
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager', azLogin: 'true' }, withAz({ env: { FAKE_AZ_ACCOUNTS: JSON.stringify([{ id: SUB, name: evil, tenantId: emu.machine.tenantId, isDefault: true }]) } }));
      assert.equal(run.result, 'Succeeded', run.log);
      assert.ok(!run.variables.has('INJECTED') && !run.outputs.has('INJECTED'));
      assert.ok(!run.commands.some((c) => c.properties.variable === 'INJECTED'));
      assert.match(run.stdout, /##_vso\[task\.setvariable variable=INJECTED\]pwned/);
    });

    it('passes what az prints through without its ##vso commands and without anything that looks like a token', async () => {
      // Not our token: one az could print in a debug or error line (minted here, so the suite's scan would see it too).
      const theirs = emu.mint({ audience: 'https://management.azure.com/', clientId: 'c', objectId: 'o', miResourceId: '/x' }).token;
      const stderr = `DEBUG: Authorization: Bearer ${theirs}\n##vso[task.complete result=Failed]from az`;
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager', azLogin: 'true' }, withAz({ env: { FAKE_AZ_STDERR: stderr } }));
      assert.equal(run.result, 'Succeeded', run.log);
      assert.ok(!run.stdout.includes(theirs), 'the token az printed is not in the log');
      assert.match(run.stdout, /DEBUG: Authorization: Bearer <token removed>/);
      assert.match(run.stdout, /##_vso\[task\.complete result=Failed\]from az/);
      assert.ok(!run.commands.some((c) => c.command === 'task.complete' && c.properties.result === 'Failed'));
    });

    it('fails with the exit code when az login fails, and the post-job step still cleans up', async () => {
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager', azLogin: 'true' }, withAz({ env: { FAKE_AZ_FAIL: 'login' } }));
      assert.equal(run.result, 'Failed');
      assert.match(run.resultMessage ?? '', /'az login --identity' failed with exit code 1/);
      const dir = run.variables.get('AZURE_CONFIG_DIR')?.value ?? '';
      const post = await postJob(run);
      assert.equal(post.result, 'Succeeded', post.log);
      assert.ok(!existsSync(dir));
    });

    it('fails before any request when az is not on PATH, saying how to install it', async () => {
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager', azLogin: 'true' }, { env: { PATH: join(tmpdir(), 'no-such-dir') } });
      assert.equal(run.result, 'Failed');
      assert.match(run.resultMessage ?? '', /'az' is not on the agent's PATH.*apt-get install azure-cli.*MSI/);
      assert.equal(emu.requests.length, 0);
    });
  });

  describe('the post-job step', () => {
    it('clears and removes the directory the task created', async () => {
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager', azLogin: 'true' }, withAz());
      const dir = run.variables.get('AZURE_CONFIG_DIR')?.value ?? '';
      assert.ok(existsSync(dir));
      const post = await postJob(run, { AZURE_CONFIG_DIR: dir });
      assert.equal(post.result, 'Succeeded', post.log);
      assert.deepEqual(azCalls().at(-1), { args: ['account', 'clear'], configDir: dir });
      assert.ok(!existsSync(dir), 'removed');
      assert.match(post.log, /Removed the Azure CLI configuration folder/);
    });

    it('in a preset AZURE_CONFIG_DIR, only signs the identity out and keeps the folder', async () => {
      const own = mkdtempSync(join(tmpdir(), 'users-azure-'));
      const uai = emu.machine.userAssigned[0];
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager', azLogin: 'true', identityType: 'userAssigned', identityIdType: 'clientId', identityId: uai.clientId }, withAz({ env: { AZURE_CONFIG_DIR: own } }));
      assert.equal(run.result, 'Succeeded', run.log);
      assert.ok(!run.variables.has('AZURE_CONFIG_DIR'), 'the user already set it');
      assert.ok(azCalls().every((c) => c.configDir === own));
      const post = await postJob(run, { AZURE_CONFIG_DIR: own });
      assert.equal(post.result, 'Succeeded', post.log);
      assert.deepEqual(azCalls().at(-1)?.args, ['logout', '--username', 'userAssignedIdentity']);
      assert.ok(existsSync(own), 'kept');
    });

    it('warns, and does not fail the job, when the sign-out fails', async () => {
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager', azLogin: 'true' }, withAz());
      const post = await postJob(run, { FAKE_AZ_FAIL: 'account clear' });
      assert.equal(post.result, 'Succeeded', post.log);
      assert.match(post.log, /##\[warning\]Signing the Azure CLI out failed with exit code 1/);
      assert.ok(!existsSync(run.variables.get('AZURE_CONFIG_DIR')?.value ?? ''), 'the folder is removed all the same');
    });

    it('does nothing when the task failed before it signed in', async () => {
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager', azLogin: 'true', identityType: 'userAssigned', identityIdType: 'clientId', identityId: '0f0f0f0f-1111-4222-8333-444444444444' }, withAz());
      assert.equal(run.result, 'Failed', run.log);
      assert.equal(run.taskVariables.size, 0, 'no login recorded');
      const post = await postJob(run);
      assert.equal(post.result, 'Succeeded', post.log);
      assert.equal(azCalls().length, 0);
    });

    it('removes no folder it did not create in Agent.TempDirectory, whatever the record says', async () => {
      const elsewhere = mkdtempSync(join(mkdtempSync(join(tmpdir(), 'not-temp-')), 'azure-cli-mi-'));
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager' });
      const forged = new Map([['ManagedIdentityToken.azLogin', JSON.stringify({ configDir: elsewhere, createdConfigDir: true, user: 'systemAssignedIdentity' })]]);
      const post = await postJob({ ...run, taskVariables: forged });
      assert.equal(post.result, 'Succeeded', post.log);
      assert.ok(existsSync(elsewhere), 'kept');
      assert.match(post.log, /##\[warning\]The Azure CLI configuration folder '.*' was kept/);
    });

    it('does nothing when the task did not sign in', async () => {
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager' }, withAz());
      const post = await postJob(run);
      assert.equal(post.result, 'Succeeded', post.log);
      assert.equal(azCalls().length, 0);
    });
  });

  describe('Azure DevOps', () => {
    const collection = () => ({ 'System.CollectionUri': `${emu.url}/contoso/` });

    it('sets AZURE_DEVOPS_EXT_PAT as a secret variable', async () => {
      const run = await runTokenTask(emu, { audience: 'AzureDevOps', azureDevOpsLogin: 'true' });
      assert.equal(run.result, 'Succeeded', run.log);
      assert.deepEqual(run.variables.get('AZURE_DEVOPS_EXT_PAT'), { value: emu.minted[0].token, secret: true, output: false });
      assert.ok(run.commands.some((c) => c.command === 'task.setvariable' && c.properties.variable === 'AZURE_DEVOPS_EXT_PAT' && c.properties.issecret === 'true'));
      assert.match(run.log, /env: \{ AZURE_DEVOPS_EXT_PAT: \$\(AZURE_DEVOPS_EXT_PAT\) \}/);
    });

    it('logs the identity Azure DevOps authenticates', async () => {
      const id = devopsOf(emu).addMember(emu.machine.systemAssigned!);
      const run = await runTokenTask(emu, { audience: 'AzureDevOps', azureDevOpsLogin: 'true', verifyAzureDevOps: 'true' }, { variables: collection() });
      assert.equal(run.result, 'Succeeded', run.log);
      assert.ok(run.log.includes(`accepts the token as agent-vm-01 (${id})`), run.log);
      const [request] = emu.received(DEVOPS_CONNECTION_DATA_ROUTE);
      assert.equal(request.url, '/contoso/_apis/connectionData');
      assert.equal(request.headers.authorization, `Bearer ${emu.minted[0].token}`);
    });

    it('does not obey a ##vso command in the name Azure DevOps answers with', async () => {
      devopsOf(emu).addMember({ ...emu.machine.systemAssigned!, name: '##vso[task.setvariable variable=INJECTED]pwned' });
      const run = await runTokenTask(emu, { audience: 'AzureDevOps', verifyAzureDevOps: 'true' }, { variables: collection() });
      assert.equal(run.result, 'Succeeded', run.log);
      assert.ok(!run.variables.has('INJECTED') && !run.commands.some((c) => c.properties.variable === 'INJECTED'));
      assert.match(run.stdout, /accepts the token as ##_vso\[task\.setvariable variable=INJECTED\]pwned \(/);
    });

    it('verifies without exporting AZURE_DEVOPS_EXT_PAT when only verifyAzureDevOps is on', async () => {
      devopsOf(emu).addMember(emu.machine.systemAssigned!);
      const run = await runTokenTask(emu, { audience: 'AzureDevOps', verifyAzureDevOps: 'true' }, { variables: collection() });
      assert.equal(run.result, 'Succeeded', run.log);
      assert.match(run.log, /accepts the token as agent-vm-01/);
      assert.ok(!run.variables.has('AZURE_DEVOPS_EXT_PAT'));
    });

    for (const [what, setup, pattern] of [
      ['the anonymous user', { whenNotMember: 'anonymous' }, /answered as the anonymous user \(authenticated as Anonymous \(aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa\)\).*Add the managed identity to the organization as a user.*Basic/],
      ['a 401 with TF400813', { whenNotMember: 'unauthorized', refusal: 'TF400813' }, /refused the token: TF400813: The user '.*' is not authorized.*is not a user of this organization.*Basic/],
      ['a 401 with TF401444', { whenNotMember: 'unauthorized', refusal: 'TF401444' }, /TF401444: Please sign-in.*cannot sign in interactively.*Add the managed identity/],
      ['a 401 with VS30063', { whenNotMember: 'unauthorized', refusal: 'VS30063' }, /VS30063: You are not authorized.*another Microsoft Entra tenant.*Add the managed identity/],
      ['a 203 sign-in page', { whenNotMember: 'signIn' }, /answered with a sign-in page instead of data \(HTTP 203, an HTML page "Azure DevOps Services \| Sign In"\).*Add the managed identity/],
    ] as const) {
      it(`fails with advice on ${what}`, async () => {
        Object.assign(devopsOf(emu), setup);
        const run = await runTokenTask(emu, { audience: 'AzureDevOps', azureDevOpsLogin: 'true', verifyAzureDevOps: 'true' }, { variables: collection() });
        assert.equal(run.result, 'Failed', run.log);
        assert.match(run.resultMessage ?? '', pattern);
      });
    }

    it("keeps Azure DevOps's ActivityId and X-VSS-E2EID in the failure, after the advice", async () => {
      Object.assign(devopsOf(emu), { whenNotMember: 'unauthorized', refusal: 'TF400813' });
      const run = await runTokenTask(emu, { audience: 'AzureDevOps', verifyAzureDevOps: 'true' }, { variables: collection() });
      assert.equal(run.result, 'Failed', run.log);
      assert.match(run.resultMessage ?? '', /Add the managed identity.* Support details \(give them to Azure support if you open a case\): activityid [0-9a-f-]{36}, x-vss-e2eid [0-9a-f-]{36}\.$/);
    });

    it("goes through the agent's proxy to Azure DevOps, and direct to the identity endpoint", async () => {
      devopsOf(emu).addMember(emu.machine.systemAssigned!);
      await withConnectProxy(async (proxy) => {
        const run = await runTokenTask(emu, { audience: 'AzureDevOps', azureDevOpsLogin: 'true', verifyAzureDevOps: 'true' }, { variables: { ...collection(), 'Agent.ProxyUrl': proxy.url, 'Agent.ProxyBypassList': '[]' } });
        assert.equal(run.result, 'Succeeded', run.log);
        assert.deepEqual(proxy.connects, [new URL(emu.url).host], 'one tunnel: Azure DevOps');
        assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 1);
        assert.equal(emu.received(DEVOPS_CONNECTION_DATA_ROUTE).length, 1);
      });
    });
  });

  describe('bad input', () => {
    for (const [what, inputs, pattern] of [
      ['azureDevOpsLogin with a Resource Manager audience', { audience: 'AzureResourceManager', azureDevOpsLogin: 'true' }, /azureDevOpsLogin needs a token for Azure DevOps, but the audience is 'AzureResourceManager'. Set audience to AzureDevOps/],
      ['verifyAzureDevOps with a Graph audience', { audience: 'https://graph.microsoft.com/.default', verifyAzureDevOps: 'true' }, /verifyAzureDevOps needs a token for Azure DevOps/],
      ['a subscription that is a resource path', { audience: 'AzureResourceManager', azLogin: 'true', azSubscription: `/subscriptions/${SUB}` }, /azSubscription has the value '\/subscriptions\/.*neither a subscription ID.*nor a subscription name/],
      ['a broken subscription ID', { audience: 'AzureResourceManager', azLogin: 'true', azSubscription: '00000000-1111-4222-8333' }, /azSubscription has the value '00000000-1111-4222-8333'/],
      ['a subscription name for Terraform without azLogin', { audience: 'AzureResourceManager', exportTerraformEnv: 'true', azSubscription: 'Contoso Production' }, /exportTerraformEnv needs the subscription ID, but azSubscription is the name 'Contoso Production'/],
    ] as const) {
      it(`fails on ${what} before any request`, async () => {
        const run = await runTokenTask(emu, { ...inputs }, withAz());
        assert.equal(run.result, 'Failed');
        assert.match(run.resultMessage ?? '', pattern);
        assert.equal(emu.requests.length, 0);
        assert.equal(azCalls().length, 0);
      });
    }
  });

  it('warns that azSubscription is ignored without azLogin or exportTerraformEnv', async () => {
    const run = await runTokenTask(emu, { audience: 'AzureResourceManager', azSubscription: 'Contoso Production' }, withAz());
    assert.equal(run.result, 'Succeeded', run.log);
    assert.match(run.log, /##\[warning\]azSubscription 'Contoso Production' is ignored: only azLogin .* and exportTerraformEnv .* use it/);
    assert.equal(azCalls().length, 0);
    assert.ok(![...run.variables.keys()].some((k) => k.startsWith('ARM_')));
  });

  describe('exportTerraformEnv', () => {
    it("sets ARM_* for a system-assigned identity, with this VM's subscription from the instance metadata", async () => {
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager', exportTerraformEnv: 'true' });
      assert.equal(run.result, 'Succeeded', run.log);
      const vars = Object.fromEntries([...run.variables].filter(([k]) => k.startsWith('ARM_')).map(([k, v]) => [k, v.value]));
      assert.deepEqual(vars, {
        ARM_USE_MSI: 'true',
        ARM_TENANT_ID: emu.machine.tenantId,
        ARM_SUBSCRIPTION_ID: emu.machine.subscriptionId,
        // The emulator is not IMDS at its usual address, so Terraform is told where it is.
        ARM_MSI_ENDPOINT: `${emu.url}/metadata/identity/oauth2/token`,
      });
      assert.ok([...run.variables].filter(([k]) => k.startsWith('ARM_')).every(([, v]) => !v.secret && !v.output));
      assert.equal(emu.received(IMDS_INSTANCE_ROUTE).length, 1);
    });

    it('sets the client ID of a user-assigned identity named by resource ID, the given subscription and the cloud', async () => {
      const uai = emu.machine.userAssigned[1];
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager', exportTerraformEnv: 'true', identityType: 'userAssigned', identityIdType: 'resourceId', identityId: uai.resourceId, azSubscription: OTHER_SUB, cloud: 'AzureUSGovernment' });
      assert.equal(run.result, 'Succeeded', run.log);
      assert.equal(run.variables.get('ARM_CLIENT_ID')?.value, uai.clientId);
      assert.equal(run.variables.get('ARM_SUBSCRIPTION_ID')?.value, OTHER_SUB);
      assert.equal(run.variables.get('ARM_ENVIRONMENT')?.value, 'usgovernment');
      assert.equal(emu.received(IMDS_INSTANCE_ROUTE).length, 0, 'no need for the instance metadata');
    });
  });

  it('attaches a summary of the identity, the token and every variable, with how to use them, and never the token', async () => {
    devopsOf(emu).addMember(emu.machine.systemAssigned!);
    const run = await runTokenTask(
      emu,
      { audience: 'AzureDevOps', variableName: 'AdoToken', azureDevOpsLogin: 'true', verifyAzureDevOps: 'true', azLogin: 'true', exportTerraformEnv: 'true', outputVariables: 'true' },
      withAz({ variables: { 'System.CollectionUri': `${emu.url}/contoso/` }, env: { FAKE_AZ_LOG_ENV: '1' } }),
    );
    assert.equal(run.result, 'Succeeded', run.log);
    const summary = summaryOf(run);
    const token = emu.minted[0];
    // The secrets (the token, AZURE_DEVOPS_EXT_PAT) were set before az ran: none is in its environment.
    assert.ok(azCalls().length > 0 && azCalls().every((c) => c.env && !Object.values(c.env).some((v) => v?.includes(token.token))), 'no token in az\'s environment');
    for (const expected of [
      '### Managed identity token AdoToken',
      '| Identity | system-assigned |',
      '| Token from | Azure Instance Metadata Service (IMDS) |',
      '| Audience | `499b84ac-1321-427f-aa17-267ca6975798` |',
      `| Expires | ${new Date((token.claims.exp as number) * 1000).toISOString()}`,
      '| Azure DevOps | agent-vm-01 (',
      '| `AdoToken` | yes | the access token |',
      `| \`AdoToken.objectId\` | no | ${emu.machine.systemAssigned!.objectId} |`,
      '| `AZURE_DEVOPS_EXT_PAT` | yes |',
      '| `AZURE_CONFIG_DIR` | no |',
      '| `ARM_USE_MSI` | no | true |',
      '    TOKEN: $(AdoToken)',
      '    AZURE_DEVOPS_EXT_PAT: $(AZURE_DEVOPS_EXT_PAT)',
      "    token: $[ dependencies.<job>.outputs['<step>.AdoToken'] ]",
      'ADOTOKEN_EXPIRESON',
    ]) {
      assert.ok(summary.includes(expected), `summary has ${expected}\n${summary}`);
    }
    assert.ok(!summary.includes(token.token));
    for (const segment of jwtSecretSegments(token.token)) assert.ok(!summary.includes(segment), 'no part of the token either');
    assert.ok(!/eyJ[\w-]+\./.test(summary), 'nothing that looks like a JWT');
    assert.ok(run.summaries[0].file.startsWith(run.tempDirectory));
  });
});
