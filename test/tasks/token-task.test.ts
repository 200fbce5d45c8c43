/** ManagedIdentityToken@1 end to end: the bundled task run as the agent runs it, against the emulator. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockTestRunner } from 'azure-pipelines-task-lib/mock-test';
import {
  APP_SERVICE_LEGACY_TOKEN_ROUTE,
  APP_SERVICE_TOKEN_ROUTE,
  appServiceEnv,
  appServiceLegacyEnv,
  AzureEmulator,
  cloudShellEnv,
  ENTRA_TOKEN_ROUTE,
  IMDS_TOKEN_ROUTE,
  workloadIdentityEnv,
} from '../../emulator';
import { ROOT } from '../../scripts/paths';
import { recordOutput, watchTokens } from '../helpers/scan';
import { runTokenTask } from '../helpers/tasks';
import { useEmulator } from '../helpers/emulator';

describe('ManagedIdentityToken@1', () => {
  let emu: AzureEmulator;
  useEmulator({ userAssigned: ['id-a', 'id-b'] }, (e) => {
    emu = e;
  });

  it('sets the token as a secret variable of the job, with expiry and IDs beside it, and no output variable unless asked', async () => {
    const run = await runTokenTask(emu, { audience: 'AzureResourceManager' });
    assert.equal(run.result, 'Succeeded', run.log);
    const [minted] = emu.minted;
    const token = run.variables.get('ManagedIdentityToken');
    assert.deepEqual(token, { value: minted.token, secret: true, output: false });
    assert.deepEqual([...run.outputs.keys()], [], 'other jobs get nothing by default');
    assert.match(readFileSync(run.summaries[0].file, 'utf8'), /Other jobs do not see these variables: the task sets output variables only with outputVariables: true/);
    const exp = minted.claims.exp as number;
    for (const [name, value] of [
      ['expiresOn', new Date(exp * 1000).toISOString()],
      ['expiresOnUnix', String(exp)],
      ['tenantId', emu.machine.tenantId],
      ['clientId', emu.machine.systemAssigned!.clientId],
      ['objectId', emu.machine.systemAssigned!.objectId],
      ['audience', 'https://management.azure.com/'],
    ]) {
      assert.deepEqual(run.variables.get(`ManagedIdentityToken.${name}`), { value, secret: false, output: false }, name);
    }
    // The token and its payload and signature segments are masked: a tool that prints part of a JWT is masked too.
    const [, payload, signature] = minted.token.split('.');
    for (const secret of [minted.token, payload, signature]) assert.ok(run.secrets.includes(secret));
    assert.ok(!run.log.includes(payload) && !run.log.includes(signature));
  });

  it('with outputVariables also sets the token (secret) and the values beside it as output variables for other jobs', async () => {
    const run = await runTokenTask(emu, { audience: 'AzureResourceManager', variableName: 'Arm', outputVariables: 'true' });
    assert.equal(run.result, 'Succeeded', run.log);
    const [minted] = emu.minted;
    assert.deepEqual(run.variables.get('Arm'), { value: minted.token, secret: true, output: false });
    assert.deepEqual(run.outputs.get('Arm'), { value: minted.token, secret: true, output: true });
    for (const name of ['expiresOn', 'expiresOnUnix', 'tenantId', 'clientId', 'objectId', 'audience']) {
      assert.deepEqual(run.outputs.get(`Arm.${name}`), { ...run.variables.get(`Arm.${name}`)!, output: true }, name);
    }
    assert.match(readFileSync(run.summaries[0].file, 'utf8'), /dependencies\.<job>\.outputs\['<step>\.Arm'\]/);
  });

  describe("the token's lifetime", () => {
    it('warns about a token with less than 5 minutes left, and logs the minutes it has', async () => {
      emu.machine.tokenLifetimeSeconds = 240;
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager' });
      assert.equal(run.result, 'Succeeded', run.log);
      assert.match(run.log, /##\[warning\]The token expires at \S+, in \d+ seconds: later steps may not be able to use it/);
      assert.match(run.log, /\(in [34] minutes\)/);
    });

    it('fails on a token that has already expired, and logs no negative lifetime', async () => {
      emu.machine.tokenLifetimeSeconds = -120;
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager' });
      assert.equal(run.result, 'Failed');
      assert.match(run.resultMessage ?? '', /gave a token that expired at .*token cache or this machine's clock is wrong/);
      assert.doesNotMatch(run.log, /in -\d+ minutes/);
      assert.equal(run.variables.get('ManagedIdentityToken'), undefined, 'no variable holds the expired token');
    });
  });

  it('logs the helpful claims and never the token', async () => {
    const run = await runTokenTask(emu, { audience: 'AzureDevOps', variableName: 'AdoToken' });
    assert.equal(run.result, 'Succeeded');
    for (const claim of ['aud', 'iss', 'tid', 'oid', 'appid', 'xms_mirid', 'exp']) assert.match(run.log, new RegExp(`^  ${claim} `, 'm'));
    assert.match(run.log, /499b84ac-1321-427f-aa17-267ca6975798/);
    assert.ok(!run.log.includes(emu.minted[0].token));
    assert.ok(run.variables.has('AdoToken'));
  });

  it("names the plain values' environment variables as the agent does: dots to _, hyphens kept", async () => {
    const run = await runTokenTask(emu, { audience: 'AzureResourceManager', variableName: 'arm-token.prod' });
    assert.equal(run.result, 'Succeeded', run.log);
    assert.ok(run.variables.has('arm-token.prod.expiresOn'));
    assert.match(run.log, /in the environment as ARM-TOKEN_PROD_EXPIRESON and so on/);
  });

  it('uses the user-assigned identity asked for', async () => {
    const target = emu.machine.userAssigned[0];
    const run = await runTokenTask(emu, { audience: 'MicrosoftGraph', identityType: 'userAssigned', identityIdType: 'objectId', identityId: target.objectId });
    assert.equal(run.result, 'Succeeded', run.log);
    assert.equal(run.variables.get('ManagedIdentityToken.objectId')?.value, target.objectId);
    assert.equal(new URL(emu.received(IMDS_TOKEN_ROUTE)[0].url, 'http://x').searchParams.get('object_id'), target.objectId);
  });

  for (const [what, inputs, pattern] of [
    ['an empty audience', { audience: ' ' }, /audience input is empty/],
    ['several scopes', { audience: 'https://a.example/.default https://b.example/.default' }, /more than one scope/],
    ['a malformed audience', { audience: 'management.azure.com' }, /not a resource URI.*Example/],
    ['a bad variable name', { audience: 'AzureResourceManager', variableName: 'my token' }, /variableName.*not a valid variable name/],
    ['a reserved variable name', { audience: 'AzureResourceManager', variableName: 'secret.token' }, /variableName/],
    ['an identity ID of the wrong form', { audience: 'AzureResourceManager', identityType: 'userAssigned', identityIdType: 'clientId', identityId: 'my-identity' }, /identityId 'my-identity' is not a GUID/],
    ['a bad timeout', { audience: 'AzureResourceManager', timeoutSeconds: '-3' }, /timeoutSeconds '-3'/],
  ] as const) {
    it(`fails on ${what} before any request`, async () => {
      const run = await runTokenTask(emu, { ...inputs });
      assert.equal(run.result, 'Failed');
      assert.match(run.resultMessage ?? '', pattern);
      assert.equal(emu.requests.length, 0);
    });
  }

  it('resolves presets in the chosen cloud, and in a Custom cloud to its Resource Manager audience', async () => {
    const gov = await runTokenTask(emu, { audience: 'AzureResourceManager', cloud: 'AzureUSGovernment' });
    assert.equal(gov.variables.get('ManagedIdentityToken.audience')?.value, 'https://management.usgovcloudapi.net/');
    const custom = await runTokenTask(emu, { audience: 'AzureResourceManager', cloud: 'Custom', armEndpoint: 'https://management.local.azurestack.external', armAudience: 'https://management.azure.com/' });
    assert.equal(custom.variables.get('ManagedIdentityToken.audience')?.value, 'https://management.azure.com/');
    const stack = await runTokenTask(emu, { audience: 'AzureResourceManager', cloud: 'Custom', armEndpoint: 'https://management.azure.com' });
    assert.equal(stack.variables.get('ManagedIdentityToken.audience')?.value, 'https://management.azure.com/');
  });

  for (const [what, inputs, pattern] of [
    ['an unknown cloud', { cloud: 'AzureGermanCloud' }, /cloud has the value 'AzureGermanCloud'/],
    ['a Custom cloud without a URL', { cloud: 'Custom', armEndpoint: 'not a url' }, /armEndpoint.*not an http\(s\) URL/],
    ['a Custom cloud URL with credentials', { cloud: 'Custom', armEndpoint: 'https://user:pw@example.com/' }, /armEndpoint/],
    ['a Custom cloud URL with a line break (the URL parser would join the lines into another host)', { cloud: 'Custom', armEndpoint: 'https://management.azure.com\n.evil.example/' }, /armEndpoint/],
  ] as const) {
    it(`fails on ${what} before any request`, async () => {
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager', ...inputs });
      assert.equal(run.result, 'Failed');
      assert.match(run.resultMessage ?? '', pattern);
      assert.equal(emu.requests.length, 0);
    });
  }

  it('fails with advice when the identity is not found', async () => {
    const run = await runTokenTask(emu, { audience: 'AzureResourceManager', identityType: 'userAssigned', identityIdType: 'clientId', identityId: '0f0f0f0f-1111-4222-8333-444444444444' });
    assert.equal(run.result, 'Failed');
    assert.match(run.resultMessage ?? '', /Identity not found.*Enable a system-assigned identity/);
  });

  it('fails fast with the "not on an Azure host" advice when no endpoint answers', async () => {
    const port = Number(new URL(emu.url).port);
    await emu.stop();
    const run = await runTokenTask(emu, { audience: 'AzureResourceManager' }, { env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${port}` } });
    assert.equal(run.result, 'Failed');
    assert.match(run.resultMessage ?? '', /No managed identity endpoint answered.*a self-hosted agent on a VM or scale set/);
    assert.doesNotMatch(run.resultMessage ?? '', /Azure-hosted|IsSelfHosted/);
    assert.ok(run.durationMs < 10_000);
  });

  describe('on an agent of an agent cloud (Agent.IsSelfHosted = 0, as Microsoft-hosted agents report)', () => {
    const cloudAgent = { variables: { 'Agent.IsSelfHosted': '0' } };
    const advice = /Agent\.IsSelfHosted = 0: .*Microsoft-hosted agents.*no managed identity of yours\. Use a self-hosted agent on an Azure VM or scale set.*a Managed DevOps Pool with the identity assigned.*AzureCLI@2 with a workload identity federation service connection/;

    it('gets its token as usual when the machine has an identity (a Managed DevOps Pool may report 0 too)', async () => {
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager' }, cloudAgent);
      assert.equal(run.result, 'Succeeded', run.log);
      assert.doesNotMatch(run.log, /IsSelfHosted/);
    });

    it('adds the ways out when the endpoint knows no such identity', async () => {
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager', identityType: 'userAssigned', identityIdType: 'clientId', identityId: '0f0f0f0f-1111-4222-8333-444444444444' }, cloudAgent);
      assert.equal(run.result, 'Failed');
      assert.match(run.resultMessage ?? '', /Identity not found/);
      assert.match(run.resultMessage ?? '', advice);
    });

    it('adds the ways out when no endpoint answers', async () => {
      const port = Number(new URL(emu.url).port);
      await emu.stop();
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager' }, { ...cloudAgent, env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${port}` } });
      assert.equal(run.result, 'Failed');
      assert.match(run.resultMessage ?? '', /No managed identity endpoint answered/);
      assert.match(run.resultMessage ?? '', advice);
    });

    it('does not add them to other failures, nor on a self-hosted agent (1)', async () => {
      const bad = await runTokenTask(emu, { audience: 'not a uri' }, cloudAgent);
      assert.equal(bad.result, 'Failed');
      assert.doesNotMatch(bad.resultMessage ?? '', /IsSelfHosted/);
      const self = await runTokenTask(emu, { audience: 'AzureResourceManager', identityType: 'userAssigned', identityIdType: 'clientId', identityId: '0f0f0f0f-1111-4222-8333-444444444444' }, { variables: { 'Agent.IsSelfHosted': '1' } });
      assert.match(self.resultMessage ?? '', /Identity not found/);
      assert.doesNotMatch(self.resultMessage ?? '', /IsSelfHosted/);
    });
  });

  describe('on Azure DevOps Server', () => {
    const server = { 'System.ServerType': 'OnPremises', 'System.CollectionUri': 'https://tfs.contoso.com/DefaultCollection/', 'System.TeamFoundationCollectionUri': 'https://tfs.contoso.com/DefaultCollection/' };

    it('refuses verifyAzureDevOps before any request: Server takes no Microsoft Entra ID token', async () => {
      const run = await runTokenTask(emu, { audience: 'AzureDevOps', verifyAzureDevOps: 'true' }, { variables: server });
      assert.equal(run.result, 'Failed');
      assert.match(run.resultMessage ?? '', /verifyAzureDevOps does not apply on Azure DevOps Server \(https:\/\/tfs\.contoso\.com\/DefaultCollection\/\): Server does not accept Microsoft Entra ID tokens/);
      assert.equal(emu.requests.length, 0);
    });

    it('warns that an AzureDevOps token is for Azure DevOps Services only, and still sets it', async () => {
      const run = await runTokenTask(emu, { audience: 'AzureDevOps' }, { variables: server });
      assert.equal(run.result, 'Succeeded', run.log);
      assert.match(run.log, /##\[warning\]This job runs on Azure DevOps Server \(https:\/\/tfs\.contoso\.com\/DefaultCollection\/\).*System\.AccessToken/);
      assert.ok(run.variables.has('ManagedIdentityToken'));
    });

    it('tells Server from the collection URL when System.ServerType is not set, and says nothing on Services or for other audiences', async () => {
      const noType = await runTokenTask(emu, { audience: 'AzureDevOps' }, { variables: { ...server, 'System.ServerType': '' } });
      assert.match(noType.log, /This job runs on Azure DevOps Server/);
      for (const uri of ['https://dev.azure.com/contoso/', 'https://contoso.visualstudio.com/']) {
        const services = await runTokenTask(emu, { audience: 'AzureDevOps' }, { variables: { 'System.ServerType': '', 'System.CollectionUri': uri } });
        assert.doesNotMatch(services.log, /Azure DevOps Server/, uri);
      }
      const arm = await runTokenTask(emu, { audience: 'AzureResourceManager' }, { variables: server });
      assert.doesNotMatch(arm.log, /Azure DevOps Server/);
    });
  });

  it('logs the last retry in the log and earlier ones at debug level', async () => {
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 429, headers: { 'Retry-After': '0' }, body: { error: 'throttled' } }, 2);
    const run = await runTokenTask(emu, { audience: 'AzureResourceManager' }, { variables: { 'System.Debug': 'true' } });
    assert.equal(run.result, 'Succeeded', run.log);
    assert.equal((run.log.match(/##\[debug\]Attempt \d at imds failed \(HTTP 429\)/g) ?? []).length, 2);
  });

  describe('on other hosts', () => {
    it('gets a token on App Service for the user-assigned identity asked for, sent as principal_id', async () => {
      const target = emu.machine.userAssigned[1];
      const run = await runTokenTask(
        emu,
        { audience: 'KeyVault', identityType: 'userAssigned', identityIdType: 'objectId', identityId: target.objectId },
        { env: appServiceEnv(emu) },
      );
      assert.equal(run.result, 'Succeeded', run.log);
      assert.match(run.log, /from App Service managed identity \(IDENTITY_ENDPOINT\), for the user-assigned/);
      assert.equal(new URL(emu.received(APP_SERVICE_TOKEN_ROUTE)[0].url, 'http://x').searchParams.get('principal_id'), target.objectId);
      assert.equal(run.variables.get('ManagedIdentityToken.clientId')?.value, target.clientId);
      assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 0);
    });

    it('gets a token with workload identity, never showing the federated token', async () => {
      const env = workloadIdentityEnv(emu);
      const run = await runTokenTask(emu, { audience: 'AzureDevOps' }, { env });
      assert.equal(run.result, 'Succeeded', run.log);
      assert.match(run.log, /from Microsoft Entra ID \(workload identity\), for the user-assigned \(client ID [0-9a-f-]{36}\) identity/);
      assert.equal(run.variables.get('ManagedIdentityToken.clientId')?.value, env.AZURE_CLIENT_ID);
      assert.equal(emu.received(ENTRA_TOKEN_ROUTE).length, 1);
    });

    it('reads the 2017-09-01 date-string expiry right', async () => {
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager' }, { env: appServiceLegacyEnv(emu) });
      assert.equal(run.result, 'Succeeded', run.log);
      assert.equal(emu.received(APP_SERVICE_LEGACY_TOKEN_ROUTE).length, 1);
      assert.equal(run.variables.get('ManagedIdentityToken.expiresOnUnix')?.value, String(emu.minted[0].claims.exp));
    });

    it('uses the forced identitySource over the detected one', async () => {
      const run = await runTokenTask(emu, { audience: 'AzureResourceManager', identitySource: 'imds' }, { env: appServiceEnv(emu) });
      assert.equal(run.result, 'Succeeded', run.log);
      assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 1);
      assert.equal(emu.received(APP_SERVICE_TOKEN_ROUTE).length, 0);
    });

    it("fails with App Service's correlation ID in the message, for a support case", async () => {
      const run = await runTokenTask(
        emu,
        { audience: 'AzureResourceManager', identityType: 'userAssigned', identityIdType: 'clientId', identityId: '0f0f0f0f-1111-4222-8333-444444444444' },
        { env: appServiceEnv(emu) },
      );
      assert.equal(run.result, 'Failed');
      assert.match(run.resultMessage ?? '', /App Service.*Support details \(give them to Azure support if you open a case\): correlationId [0-9a-f-]{36}\.$/);
    });

    for (const [what, inputs, env, pattern] of [
      ['an unknown identitySource', { identitySource: 'vm' }, {}, /identitySource 'vm' is not one of: auto, workloadIdentity/],
      ['a user-assigned identity on Cloud Shell', { identityType: 'userAssigned', identityIdType: 'clientId', identityId: '0f0f0f0f-1111-4222-8333-444444444444' }, 'cloudShell', /Cloud Shell.*cannot select a user-assigned identity by client ID\. Use identityType systemAssigned/],
      ['a forced source the agent lacks', { identitySource: 'serviceFabric' }, {}, /identitySource is serviceFabric, but .* lacks IDENTITY_ENDPOINT, IDENTITY_HEADER and IDENTITY_SERVER_THUMBPRINT/],
    ] as const) {
      it(`fails on ${what} before any request`, async () => {
        const run = await runTokenTask(emu, { audience: 'AzureResourceManager', ...inputs }, { env: env === 'cloudShell' ? cloudShellEnv(emu) : env });
        assert.equal(run.result, 'Failed');
        assert.match(run.resultMessage ?? '', pattern);
        assert.equal(emu.requests.length, 0);
      });
    }
  });

  it('runs in task-lib\'s MockTestRunner', async function () {
    this.timeout(30_000);
    const minted = join(mkdtempSync(join(tmpdir(), 'mock-')), 'minted.json');
    Object.assign(process.env, { MINTED_FILE: minted, TEST_USER_ASSIGNED: '1', TEST_AUDIENCE: 'https://storage.azure.com/.default' });
    try {
      const tr = new MockTestRunner(join(ROOT, 'out', 'test', 'fixtures', 'token-mock-run.js'), join(ROOT, 'tasks', 'ManagedIdentityTokenV1', 'task.json'));
      tr.nodePath = process.execPath; // otherwise it downloads a Node binary from the internet
      await tr.runAsync();
      const tokens = JSON.parse(readFileSync(minted, 'utf8')) as string[];
      watchTokens(tokens);
      recordOutput('MockTestRunner', `${tr.stdout}\n${tr.stderr}`);
      assert.ok(tr.succeeded, tr.stdout + tr.stderr);
      assert.equal(tokens.length, 1);
      assert.ok(tr.stdout.includes(`##vso[task.setvariable variable=MockToken;isOutput=false;issecret=true;]${tokens[0]}`));
      // The mock harness prints loc keys and their arguments.
      assert.ok(tr.stdOutContained('loc_mock_TokenAcquired https://storage.azure.com '), tr.stdout);
      assert.equal(tr.errorIssues.length, 0);
    } finally {
      for (const k of ['MINTED_FILE', 'TEST_USER_ASSIGNED', 'TEST_AUDIENCE']) delete process.env[k];
    }
  });
});
