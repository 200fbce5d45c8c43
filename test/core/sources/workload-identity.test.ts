/** Workload identity: the Entra ID v2 exchange, its refusals mapped to advice, and the agent's proxy and TLS settings. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AzureEmulator, ENTRA_TOKEN_ROUTE, FederatedTokenOptions, sourceEnv, workloadIdentityEnv } from '../../../emulator';
import { acquireToken } from '../../../src/core/acquire';
import { parseAudience } from '../../../src/core/audience';
import { CLOUDS } from '../../../src/core/clouds';
import type { ManagedIdentityError } from '../../../src/core/errors';
import { SYSTEM_ASSIGNED, userAssigned } from '../../../src/core/identity';
import { closeNetworkDispatchers } from '../../../src/core/network';
import { workloadIdentitySource } from '../../../src/core/sources/workload-identity';
import { startProxy } from '../../helpers/proxy';
import { failure, sourceOptions } from '../../helpers/sources';
import { useEmulator } from '../../helpers/emulator';

describe('workload identity token source', () => {
  let emu: AzureEmulator;
  useEmulator({ userAssigned: ['aks-agent', 'other'] }, (e) => {
    emu = e;
  });
  afterEach(() => closeNetworkDispatchers());

  const withToken = (options: FederatedTokenOptions, extra: Record<string, string> = {}) =>
    sourceOptions(emu, 'workloadIdentity', { env: { ...workloadIdentityEnv(emu, options), ...extra } });

  it('posts the client credentials form with the trimmed file as the assertion and <resource>/.default as scope', async () => {
    const env = workloadIdentityEnv(emu);
    const result = await acquireToken(sourceOptions(emu, 'workloadIdentity', { env, audience: parseAudience('https://vault.azure.net') }));
    const [req] = emu.received(ENTRA_TOKEN_ROUTE);
    assert.equal(new URL(req.url, 'http://x').pathname, `/${emu.machine.tenantId}/oauth2/v2.0/token`);
    assert.match(String(req.headers['content-type']), /^application\/x-www-form-urlencoded/);
    const form = Object.fromEntries(new URLSearchParams(req.body));
    assert.deepEqual(Object.keys(form).sort(), ['client_assertion', 'client_assertion_type', 'client_id', 'grant_type', 'scope']);
    assert.equal(form.grant_type, 'client_credentials');
    assert.equal(form.client_id, env.AZURE_CLIENT_ID);
    assert.equal(form.scope, 'https://vault.azure.net/.default');
    assert.equal(form.client_assertion, readFileSync(env.AZURE_FEDERATED_TOKEN_FILE, 'utf8').trim());
    assert.ok(form.client_assertion.length > 100);
    assert.equal(form.client_assertion_type, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    assert.deepEqual(result.identity, { kind: 'clientId', id: env.AZURE_CLIENT_ID });
    assert.equal(result.claims?.appid, env.AZURE_CLIENT_ID);
  });

  it('uses the cloud authority when AZURE_AUTHORITY_HOST is not set', () => {
    const env = { ...workloadIdentityEnv(emu), AZURE_AUTHORITY_HOST: '' };
    const ctx = { env, identity: SYSTEM_ASSIGNED, hooks: {}, resource: 'https://management.usgovcloudapi.net/', cloud: CLOUDS.AzureUSGovernment };
    assert.equal(workloadIdentitySource.request(ctx).http.url, `https://login.microsoftonline.us/${emu.machine.tenantId}/oauth2/v2.0/token`);
  });

  // Hosts that resolve nowhere: a regression must not send anything off the machine.
  for (const host of ['http://login.microsoftonline.invalid', 'http://localhost.invalid:8080']) {
    it(`never sends the federated token over plain http to ${host}: refused before any request, naming AZURE_AUTHORITY_HOST`, async () => {
      const e = await failure(withToken({}, { AZURE_AUTHORITY_HOST: host }));
      assert.equal(e.kind, 'hostSetup');
      assert.equal(e.key, 'AuthorityNotHttps');
      assert.match(e.message, new RegExp(`^AZURE_AUTHORITY_HOST is '${host.replace(/\./g, '\\.')}', not an https URL`));
      assert.equal(emu.requests.length, 0);
    });
  }

  it('refuses a cloud whose authority is plain http, naming the cloud', () => {
    const env = { ...workloadIdentityEnv(emu), AZURE_AUTHORITY_HOST: '' };
    const cloud = { ...CLOUDS.AzureCloud, name: 'Custom' as const, authorityHost: 'http://login.contoso.example' };
    const ctx = { env, identity: SYSTEM_ASSIGNED, hooks: {}, resource: 'https://management.azure.com/', cloud };
    assert.throws(() => workloadIdentitySource.request(ctx), (e: ManagedIdentityError) => e.key === 'AuthorityNotHttps' && /^The authority host of the Custom cloud is/.test(e.message));
  });

  it('sends it over plain http to a loopback authority (the emulator), and over https anywhere', () => {
    for (const host of [emu.url, 'http://localhost:1', 'http://[::1]:1', 'https://login.contoso.example']) {
      const ctx = { env: { ...workloadIdentityEnv(emu), AZURE_AUTHORITY_HOST: host }, identity: SYSTEM_ASSIGNED, hooks: {}, resource: 'https://management.azure.com/', cloud: CLOUDS.AzureCloud };
      assert.equal(workloadIdentitySource.request(ctx).http.url, `${host}/${emu.machine.tenantId}/oauth2/v2.0/token`);
    }
  });

  for (const [what, options, extra, key] of [
    ['an issuer no federated credential has', { issuer: 'https://kubernetes.default.svc.cluster.local' }, {}, 'EntraIssuerMismatch'],
    ['a subject no federated credential has', { subject: 'system:serviceaccount:default:default' }, {}, 'EntraNoFederatedCredential'],
    ['an audience no federated credential has', { audience: 'api://something-else' }, {}, 'EntraNoFederatedCredential'],
    ['an expired service account token', { lifetimeSeconds: -600 }, {}, 'EntraAssertionExpired'],
    ['a client ID the tenant does not know', {}, { AZURE_CLIENT_ID: '0f0f0f0f-1111-4222-8333-444444444444' }, 'EntraClientNotFound'],
    ['a tenant that does not exist', {}, { AZURE_TENANT_ID: '0e0e0e0e-1111-4222-8333-444444444444' }, 'EntraTenantNotFound'],
  ] as const) {
    it(`fails at once with advice on ${what}`, async () => {
      const e = await failure(withToken(options, extra));
      assert.equal(e.kind, 'refused');
      assert.equal(e.key, key);
      assert.match(e.message, /AADSTS\d+: .*Trace ID: [0-9a-f-]{36} Correlation ID: [0-9a-f-]{36}/);
      assert.equal(emu.received(ENTRA_TOKEN_ROUTE).length, 1);
    });
  }

  it('explains an audience the tenant does not know', async () => {
    const e = await failure({ ...withToken({}), audience: parseAudience('api://nobody-registered-this') });
    assert.equal(e.key, 'UnknownResource');
    assert.match(e.message, /AADSTS500011/);
  });

  it('explains a token file that holds no JWT', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'wi-')), 'token');
    writeFileSync(file, 'not-a-jwt');
    const e = await failure(withToken({}, { AZURE_FEDERATED_TOKEN_FILE: file }));
    assert.equal(e.key, 'EntraAssertionInvalid');
  });

  it('refuses a missing token file and a malformed tenant before any request', async () => {
    const missing = await failure(withToken({}, { AZURE_FEDERATED_TOKEN_FILE: '/nonexistent/azure-identity-token' }));
    assert.equal(missing.key, 'FederatedTokenFileUnreadable');
    assert.match(missing.message, /ENOENT/);
    const tenant = await failure(withToken({}, { AZURE_TENANT_ID: '../common' }));
    assert.equal(tenant.key, 'WorkloadIdentityTenantInvalid');
    assert.equal(emu.requests.length, 0);
  });

  it('warns when the token is for another client than the request named', async () => {
    const other = emu.machine.userAssigned[1];
    const minted = emu.mint({ audience: 'https://management.azure.com', clientId: other.clientId, objectId: other.objectId, miResourceId: other.resourceId });
    emu.faults.script(ENTRA_TOKEN_ROUTE, { status: 200, body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: minted.token } });
    const result = await acquireToken(withToken({}));
    assert.deepEqual(result.warnings.map((w) => w.key), ['IdentityMismatch']);
  });

  it('trusts the agent CA certificate for an HTTPS authority, and fails with advice without it', async () => {
    const env = { ...workloadIdentityEnv(emu), AZURE_AUTHORITY_HOST: emu.httpsUrl };
    const result = await acquireToken(sourceOptions(emu, 'workloadIdentity', { env, network: { caFile: emu.tls.pemFile } }));
    assert.ok(result.token);
    const e = await failure(sourceOptions(emu, 'workloadIdentity', { env, network: {} }));
    assert.equal(e.key, 'TlsFailed');
    assert.match(e.message, /TLS-inspecting proxy/);
  });

  it('goes through the agent proxy; local endpoints never do', async () => {
    const proxy = await startProxy();
    try {
      const network = { proxy: { url: proxy.url }, caFile: emu.tls.pemFile };
      await acquireToken(sourceOptions(emu, 'workloadIdentity', { network }));
      assert.equal(proxy.seen.length, 1);
      assert.equal(proxy.seen[0].url, new URL(emu.httpsUrl).host);
      for (const local of ['appService', 'appServiceLegacy', 'cloudShell', 'azureArc', 'imds', 'serviceFabric'] as const) {
        await acquireToken(sourceOptions(emu, local, { network, env: sourceEnv(emu, local) }));
      }
      assert.equal(proxy.seen.length, 1, 'no local endpoint went through the proxy');
    } finally {
      proxy.close();
    }
  });

  it('takes the client ID from the input over AZURE_CLIENT_ID', async () => {
    const other = emu.machine.userAssigned[1];
    const result = await acquireToken({ ...withToken({}), identity: userAssigned('clientId', other.clientId) });
    assert.equal(new URLSearchParams(emu.received(ENTRA_TOKEN_ROUTE)[0].body).get('client_id'), other.clientId);
    assert.equal(result.claims?.oid, other.objectId);
  });
});
