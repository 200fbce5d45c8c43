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

  it('sets the token as a secret and output variable, with expiry and IDs beside it', async () => {
    const run = await runTokenTask(emu, { audience: 'AzureResourceManager' });
    assert.equal(run.result, 'Succeeded', run.log);
    const [minted] = emu.minted;
    const token = run.variables.get('ManagedIdentityToken');
    assert.deepEqual(token, { value: minted.token, secret: true, output: false });
    assert.deepEqual(run.outputs.get('ManagedIdentityToken'), { value: minted.token, secret: true, output: true });
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
      assert.equal(run.outputs.get(`ManagedIdentityToken.${name}`)?.value, value, name);
    }
    // The token and its payload and signature segments are masked: a tool that prints part of a JWT is masked too.
    const [, payload, signature] = minted.token.split('.');
    for (const secret of [minted.token, payload, signature]) assert.ok(run.secrets.includes(secret));
    assert.ok(!run.log.includes(payload) && !run.log.includes(signature));
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
    assert.match(run.resultMessage ?? '', /No managed identity endpoint answered.*Azure-hosted agent/);
    assert.ok(run.durationMs < 10_000);
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
