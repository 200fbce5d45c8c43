import { strict as assert } from 'node:assert';
import { createServer } from 'node:net';
import { AzureEmulator, IMDS_TOKEN_ROUTE, imdsEnv } from '../../emulator';
import { acquireToken } from '../../src/core/acquire';
import { userAssigned } from '../../src/core/identity';
import { failure, FAST } from '../helpers/sources';
import { useEmulator, withEmulator } from '../helpers/emulator';

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('acquireToken on IMDS', () => {
  let emu: AzureEmulator;
  let env: NodeJS.ProcessEnv;
  useEmulator({ userAssigned: ['id-a', 'id-b'] }, (e) => {
    emu = e;
    env = imdsEnv(emu);
  });

  it('gets a system-assigned token with Metadata: true, api-version 2018-02-01 and the resource as typed', async () => {
    const result = await acquireToken({ audience: 'https://management.azure.com/.default', env });
    const [req] = emu.received(IMDS_TOKEN_ROUTE);
    const url = new URL(req.url, 'http://x');
    assert.equal(req.headers.metadata, 'true');
    assert.equal(url.searchParams.get('api-version'), '2018-02-01');
    assert.equal(url.searchParams.get('resource'), 'https://management.azure.com');
    assert.equal(result.token, emu.minted[0].token);
    assert.equal(result.claims?.aud, 'https://management.azure.com');
    assert.equal(result.claims?.oid, emu.machine.systemAssigned?.objectId);
    assert.equal(result.expiresOn.getTime(), (emu.minted[0].claims.exp as number) * 1000);
    assert.equal(result.source, 'imds');
    assert.deepEqual(result.warnings, []);
  });

  for (const [kind, param, pick] of [
    ['clientId', 'client_id', (i: { clientId: string }) => i.clientId],
    ['objectId', 'object_id', (i: { objectId: string }) => i.objectId],
    ['resourceId', 'msi_res_id', (i: { resourceId: string }) => i.resourceId],
  ] as const) {
    it(`selects a user-assigned identity by ${kind} with ${param} on the wire`, async () => {
      const target = emu.machine.userAssigned[1];
      const result = await acquireToken({ audience: 'AzureResourceManager', identity: userAssigned(kind, pick(target)), env });
      const url = new URL(emu.received(IMDS_TOKEN_ROUTE)[0].url, 'http://x');
      assert.equal(url.searchParams.get(param), pick(target));
      assert.equal(result.claims?.oid, target.objectId);
      assert.deepEqual(result.warnings, []);
    });
  }

  it('fails at once with advice on "Identity not found"', async () => {
    const e = await failure({ audience: 'AzureResourceManager', identity: userAssigned('clientId', '11111111-2222-4333-8444-555555555555'), env });
    assert.equal(e.key, 'IdentityNotFound');
    assert.match(e.message, /Enable a system-assigned identity/);
    assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 1);
  });

  it('fails at once with advice on "Multiple user assigned identities exist"', async () => {
    await withEmulator({ systemAssigned: false, userAssigned: ['a', 'b'] }, async (noSystem) => {
      const e = await failure({ audience: 'AzureResourceManager', env: imdsEnv(noSystem) });
      assert.equal(e.key, 'MultipleIdentities');
      assert.match(e.message, /identityType to userAssigned/);
      assert.equal(noSystem.received(IMDS_TOKEN_ROUTE).length, 1);
    });
  });

  it('explains an audience the tenant does not know', async () => {
    const e = await failure({ audience: 'api://nobody-registered-this', env });
    assert.equal(e.key, 'UnknownResource');
    assert.match(e.message, /AADSTS500011/);
  });

  it('refuses a bad audience before any request', async () => {
    const e = await failure({ audience: 'not a resource', env });
    assert.equal(e.kind, 'badInput');
    assert.equal(emu.requests.length, 0);
  });

  it('retries 410 through an upgrade, then succeeds', async () => {
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 410, body: 'IMDS is being upgraded' }, 8);
    const retries: string[] = [];
    const result = await acquireToken({ audience: 'AzureResourceManager', env, retryPolicy: FAST, onRetry: (e) => retries.push(e.reason) });
    assert.ok(result.token);
    assert.equal(retries.length, 8, 'more than maxRetries while in the 410 window');
    assert.ok(retries.every((r) => r === 'HTTP 410'));
  });

  for (const status of [500, 502, 503, 504, 404, 408]) {
    it(`retries HTTP ${status}`, async () => {
      emu.faults.script(IMDS_TOKEN_ROUTE, { status, body: { error: 'server_error', error_description: 'try again' } }, 2);
      const result = await acquireToken({ audience: 'AzureResourceManager', env, retryPolicy: FAST });
      assert.ok(result.token);
      assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 3);
    });
  }

  it('honours Retry-After on 429 (measured delay at least the header)', async () => {
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 429, headers: { 'Retry-After': '7' }, body: { error: 'too_many_requests' } });
    // A clock whose sleeps pass at once: the delay is measured on it, not waited for.
    let now = Date.now();
    const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };
    const delays: number[] = [];
    const started = clock.now();
    await acquireToken({ audience: 'AzureResourceManager', env, clock, onRetry: (e) => delays.push(e.delayMs) });
    assert.deepEqual(delays, [7000]);
    assert.ok(clock.now() - started >= 7000);
    assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 2);
  });

  it('gives up after the retry budget with the last error', async () => {
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 500, body: { error: 'server_error', error_description: 'broken' } }, 10);
    const e = await failure({ audience: 'AzureResourceManager', env, retryPolicy: FAST });
    assert.equal(e.key, 'EndpointRefused');
    assert.match(e.message, /HTTP 500/);
    assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 6);
  });

  it('cuts off a hung server with the request timeout, within the deadline', async () => {
    emu.faults.script(IMDS_TOKEN_ROUTE, { hang: true }, 10);
    const started = Date.now();
    const e = await failure({ audience: 'AzureResourceManager', env, requestTimeoutMs: 200, timeoutSeconds: 1, retryPolicy: FAST });
    assert.equal(e.kind, 'timeout');
    assert.ok(Date.now() - started < 3000);
  });

  it('says no endpoint answered when nothing listens, at once', async () => {
    const port = await closedPort();
    const started = Date.now();
    const e = await failure({ audience: 'AzureResourceManager', env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${port}` } });
    assert.equal(e.kind, 'noEndpoint');
    assert.match(e.message, /No managed identity endpoint answered.*Azure-hosted agent/);
    assert.ok(Date.now() - started < 2000);
  });

  it('refuses a body that is not JSON without echoing it', async () => {
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 200, body: 'access_token=eyJsecret.secret.secret' });
    const e = await failure({ audience: 'AzureResourceManager', env });
    assert.equal(e.key, 'ResponseNotJson');
    assert.doesNotMatch(e.message, /eyJsecret/);
  });

  it('shows a short plain-text refusal, but never one that may hold a token, even an opaque one', async () => {
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 400, body: 'Bad request: resource missing' });
    const plain = await failure({ audience: 'AzureResourceManager', env });
    assert.equal(plain.key, 'EndpointRefused');
    assert.match(plain.message, /HTTP 400: Bad request: resource missing/);
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 400, body: 'access_token=opaque-secret-1234&expires_on=1893456000' });
    const secret = await failure({ audience: 'AzureResourceManager', env });
    assert.equal(secret.key, 'EndpointRefused');
    assert.doesNotMatch(secret.message, /opaque-secret-1234/);
    assert.match(secret.message, /\d+ bytes, not JSON/);
  });

  it('refuses JSON without access_token', async () => {
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 200, body: { token_type: 'Bearer', expires_on: '1893456000' } });
    const e = await failure({ audience: 'AzureResourceManager', env });
    assert.equal(e.key, 'ResponseNoToken');
    assert.match(e.message, /token_type, expires_on/);
  });

  it('refuses an answer over 1 MB', async () => {
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 200, body: { access_token: 'x'.repeat(1_100_000), expires_on: '1893456000' } });
    const e = await failure({ audience: 'AzureResourceManager', env });
    assert.equal(e.key, 'ResponseTooLarge');
  });

  it('reports the emulator refusing a request without the Metadata header', async () => {
    const res = await fetch(`${emu.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/`);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: 'bad_request_102', error_description: 'Required metadata header not specified' });
  });

  it('warns when the token is for another identity than asked', async () => {
    const [a, b] = emu.machine.userAssigned;
    const minted = emu.mint({ audience: 'https://management.azure.com/', clientId: b.clientId, objectId: b.objectId, miResourceId: b.resourceId });
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 200, body: { access_token: minted.token, expires_on: String(minted.claims.exp), token_type: 'Bearer' } });
    const result = await acquireToken({ audience: 'AzureResourceManager', identity: userAssigned('clientId', a.clientId), env });
    assert.equal(result.warnings.length, 1);
    assert.equal(result.warnings[0].key, 'IdentityMismatch');
  });
});
