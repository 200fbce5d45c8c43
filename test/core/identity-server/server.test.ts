import { strict as assert } from 'node:assert';
import { AzureEmulator, IMDS_TOKEN_ROUTE, imdsEnv } from '../../../emulator';
import { decodeJwtClaims } from '../../../src/core/jwt';
import { userAssigned } from '../../../src/core/identity';
import { ManagedIdentityError } from '../../../src/core/errors';
import type { CachedToken } from '../../../src/core/identity-server/cache';
import { CONTROL_PATH, newNonce, reportProof, stopProof } from '../../../src/core/identity-server/control';
import { newServerSecret, secretMatches } from '../../../src/core/identity-server/guard';
import { IdentityServer, startIdentityServer } from '../../../src/core/identity-server/server';
import { acquireUpstream } from '../../../src/core/identity-server/upstream';
import type { UsageReport } from '../../../src/core/identity-server/usage';
import { fakeClock } from '../../helpers/clock';
import { rawRequest } from '../../helpers/identity-server';
import { useEmulator } from '../../helpers/emulator';

const ARM = 'https://management.azure.com/';

describe('identity server: guard', () => {
  it('makes 256-bit secrets and compares them exactly', () => {
    const s = newServerSecret();
    assert.match(s, /^[0-9a-f]{64}$/);
    assert.notEqual(s, newServerSecret());
    assert.ok(secretMatches(s, s));
    assert.ok(!secretMatches(s.toUpperCase(), s));
    assert.ok(!secretMatches(s.slice(1), s));
    assert.ok(!secretMatches(undefined, s));
    assert.ok(!secretMatches('', ''));
  });
});

describe('identity server on an emulated VM with two user-assigned identities and no system-assigned one', () => {
  let emu: AzureEmulator;
  let server: IdentityServer;
  let secret: string;
  const controlKey = newServerSecret();
  const start = async (extra: Partial<Parameters<typeof startIdentityServer>[0]> = {}) => {
    secret = newServerSecret();
    const chosen = userAssigned('clientId', emu.machine.userAssigned[1].clientId);
    server = await startIdentityServer({
      secret,
      controlKey,
      chosen,
      upstream: acquireUpstream({ env: imdsEnv(emu), identitySource: 'imds', timeoutSeconds: 10 }),
      ...extra,
    });
  };
  afterEach(() => server?.stop('test'));
  useEmulator({ systemAssigned: false, userAssigned: ['id-a', 'id-b'] }, (e) => {
    emu = e;
  });

  const oid = (token: unknown) => decodeJwtClaims(String(token))?.oid;

  it('answers App Service 2019-08-01 with the chosen identity, and a named identity with that one', async () => {
    await start();
    const [a, b] = emu.machine.userAssigned;
    const plain = await rawRequest(server.port, `/msi/token?api-version=2019-08-01&resource=${encodeURIComponent(ARM)}`, { headers: { 'X-IDENTITY-HEADER': secret } });
    assert.equal(plain.status, 200, plain.body);
    assert.equal(oid(plain.json.access_token), b.objectId);
    assert.equal(plain.json.client_id, b.clientId);
    assert.equal(plain.json.resource, ARM);
    assert.match(String(plain.json.expires_on), /^\d+$/);
    assert.equal(plain.json.token_type, 'Bearer');
    const named = await rawRequest(server.port, `/msi/token?api-version=2019-08-01&resource=${encodeURIComponent(ARM)}&principal_id=${a.objectId}`, { headers: { 'X-IDENTITY-HEADER': secret } });
    assert.equal(oid(named.json.access_token), a.objectId);
    const report = server.report();
    assert.deepEqual(report.rows.map((r) => [r.identity.includes(a.objectId), r.identity.includes('named by the request'), r.count]), [[false, false, 1], [true, true, 1]]);
  });

  it('answers 2017-09-01 (header secret), the Azure CLI POST and IMDS GET (path secret), each in its own shape', async () => {
    await start();
    const [a, b] = emu.machine.userAssigned;
    const p = server.endpoints;
    const legacy = await rawRequest(server.port, `/msi/token?api-version=2017-09-01&resource=${encodeURIComponent(ARM)}&clientid=${a.clientId}`, { headers: { secret } });
    assert.equal(oid(legacy.json.access_token), a.objectId);
    assert.equal(legacy.json.client_id, undefined);
    const legacyPath = await rawRequest(server.port, `${new URL(p.msiEndpoint).pathname}/?resource=${encodeURIComponent(ARM)}&api-version=2017-09-01`, { headers: { secret } });
    assert.equal(oid(legacyPath.json.access_token), b.objectId);
    const cli = await rawRequest(server.port, new URL(p.msiEndpoint).pathname, {
      method: 'POST',
      headers: { Metadata: 'true', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `resource=${encodeURIComponent('https://management.core.windows.net/')}`,
    });
    assert.equal(cli.status, 200, cli.body);
    assert.equal(oid(cli.json.access_token), b.objectId);
    assert.match(String(cli.json.expires_in), /^\d+$/);
    const imds = await rawRequest(server.port, `${new URL(p.imdsEndpoint).pathname}?api-version=2018-02-01&resource=${encodeURIComponent(ARM)}&client_id=${a.clientId}`, { headers: { Metadata: 'true' } });
    assert.equal(oid(imds.json.access_token), a.objectId);
    assert.equal(imds.json.client_id, a.clientId);
    const slash = await rawRequest(server.port, `${new URL(p.imdsEndpoint).pathname}/?api-version=2018-02-01&resource=${encodeURIComponent(ARM)}`, { headers: { Metadata: 'true' } });
    assert.equal(oid(slash.json.access_token), b.objectId);
  });

  it('refuses a request without the secret, with a wrong secret, a wrong Host, an Origin, a proxy header, another method, a long URL or body', async () => {
    await start();
    const q = `api-version=2019-08-01&resource=${encodeURIComponent(ARM)}`;
    const ok = { 'X-IDENTITY-HEADER': secret };
    const cases: Array<[string, Promise<{ status: number; body: string }>, number]> = [
      ['no header', rawRequest(server.port, `/msi/token?${q}`), 401],
      ['wrong header', rawRequest(server.port, `/msi/token?${q}`, { headers: { 'X-IDENTITY-HEADER': newServerSecret() } }), 401],
      ['wrong path secret', rawRequest(server.port, `/${newServerSecret()}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x`, { headers: { Metadata: 'true' } }), 404],
      ['IMDS path without secret', rawRequest(server.port, `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${ARM}`, { headers: { Metadata: 'true' } }), 404],
      ['DNS rebinding', rawRequest(server.port, `/msi/token?${q}`, { headers: { ...ok, Host: `evil.example:${server.port}` } }), 403],
      ['localhost', rawRequest(server.port, `/msi/token?${q}`, { headers: { ...ok, Host: `localhost:${server.port}` } }), 403],
      ['other port', rawRequest(server.port, `/msi/token?${q}`, { headers: { ...ok, Host: `127.0.0.1:${server.port + 1}` } }), 403],
      ['Origin', rawRequest(server.port, `/msi/token?${q}`, { headers: { ...ok, Origin: 'https://evil.example' } }), 403],
      ['X-Forwarded-For', rawRequest(server.port, `/msi/token?${q}`, { headers: { ...ok, 'X-Forwarded-For': '10.0.0.1' } }), 400],
      ['PUT', rawRequest(server.port, `/msi/token?${q}`, { method: 'PUT', headers: ok }), 405],
      ['other path', rawRequest(server.port, `/metadata/instance?api-version=2021-02-01`, { headers: { ...ok, Metadata: 'true' } }), 404],
      ['a host in the path', rawRequest(server.port, `//${secret}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${ARM}`, { headers: { Metadata: 'true' } }), 404],
      ['absolute-form target', rawRequest(server.port, `http://127.0.0.1:${server.port}/msi/token?${q}`, { headers: ok }), 400],
      ['long URL', rawRequest(server.port, `/msi/token?${q}&x=${'a'.repeat(5000)}`, { headers: ok }), 414],
      ['long body', rawRequest(server.port, new URL(server.endpoints.msiEndpoint).pathname, { method: 'POST', headers: { Metadata: 'true', 'Content-Type': 'application/x-www-form-urlencoded' }, body: `resource=${'a'.repeat(5000)}` }), 413],
      ['two identities', rawRequest(server.port, `/msi/token?${q}&client_id=${emu.machine.userAssigned[0].clientId}&mi_res_id=x`, { headers: ok }), 400],
      ['bad client ID', rawRequest(server.port, `/msi/token?${q}&client_id=not-a-guid`, { headers: ok }), 400],
      ['no Metadata', rawRequest(server.port, `${new URL(server.endpoints.imdsEndpoint).pathname}?api-version=2018-02-01&resource=${ARM}`), 400],
    ];
    for (const [name, answer, status] of cases) {
      const a = await answer;
      assert.equal(a.status, status, `${name}: ${a.body}`);
      assert.ok(!a.body.includes('eyJ'), name);
    }
    assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 0, 'no refused request reached the token source');
    assert.ok(Object.values(server.report().refused).reduce((s, n) => s + n, 0) >= cases.length);
  });

  it('refuses an audience outside allowedAudiences, naming the input, and serves the ones in it', async () => {
    await start({ allowedAudiences: ['https://management.azure.com'], audienceRefusal: 'The audience %s is not in the allowedAudiences input.' });
    const vault = await rawRequest(server.port, `/msi/token?api-version=2019-08-01&resource=${encodeURIComponent('https://vault.azure.net')}`, { headers: { 'X-IDENTITY-HEADER': secret } });
    assert.equal(vault.status, 403);
    assert.equal(vault.json.message, 'The audience https://vault.azure.net is not in the allowedAudiences input.');
    const arm = await rawRequest(server.port, `/msi/token?api-version=2019-08-01&resource=${encodeURIComponent('https://management.azure.com/.default')}`, { headers: { 'X-IDENTITY-HEADER': secret } });
    assert.equal(arm.status, 200);
    assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 1);
  });

  it('answers 50 concurrent requests for one audience with one upstream request', async () => {
    await start();
    emu.faults.script(IMDS_TOKEN_ROUTE, { delayMs: 200 });
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => rawRequest(server.port, `/msi/token?api-version=2019-08-01&resource=${encodeURIComponent(ARM)}`, { headers: { 'X-IDENTITY-HEADER': secret } })),
    );
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
    assert.equal(new Set(answers.map((a) => a.json.access_token)).size, 1);
    assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 1);
    assert.equal(server.report().rows[0].count, 50);
  });

  it("applies the engine's retries upstream: IMDS busy twice, the client gets its token on one request", async () => {
    secret = newServerSecret();
    server = await startIdentityServer({
      secret,
      controlKey,
      chosen: userAssigned('clientId', emu.machine.userAssigned[1].clientId),
      upstream: acquireUpstream({ env: imdsEnv(emu), identitySource: 'imds', timeoutSeconds: 10, retryPolicy: { baseDelayMs: 5, maxDelayMs: 10 } }),
    });
    emu.faults.script(IMDS_TOKEN_ROUTE, [{ status: 503, body: { error: 'busy' } }, { status: 429, headers: { 'Retry-After': '0' }, body: { error: 'throttled' } }]);
    const answer = await rawRequest(server.port, `/msi/token?api-version=2019-08-01&resource=${encodeURIComponent(ARM)}`, { headers: { 'X-IDENTITY-HEADER': secret } });
    assert.equal(answer.status, 200, answer.body);
    assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 3);
  });

  it('answers an upstream refusal in the protocol shape with its advice, and caches no failure', async () => {
    await start();
    const unknown = await rawRequest(server.port, `/msi/token?api-version=2019-08-01&resource=${encodeURIComponent('https://unknown.example')}`, { headers: { 'X-IDENTITY-HEADER': secret } });
    assert.equal(unknown.status, 400);
    assert.match(String(unknown.json.message), /unknown\.example/);
    await rawRequest(server.port, `/msi/token?api-version=2019-08-01&resource=${encodeURIComponent('https://unknown.example')}`, { headers: { 'X-IDENTITY-HEADER': secret } });
    assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 2);
  });

  it('stops only for a proof of the control key, once, and returns its usage with a proof of its own', async () => {
    await start();
    await rawRequest(server.port, `/msi/token?api-version=2019-08-01&resource=${encodeURIComponent(ARM)}`, { headers: { 'X-IDENTITY-HEADER': secret, 'User-Agent': 'azsdk-js-identity/4.14' } });
    const nonce = newNonce();
    const wrong = await rawRequest(server.port, CONTROL_PATH, { method: 'POST', headers: { 'X-Control-Nonce': nonce, 'X-Control-Proof': stopProof(secret, nonce) } });
    assert.equal(wrong.status, 401, 'the client secret does not stop the server');
    const stop = await rawRequest(server.port, CONTROL_PATH, { method: 'POST', headers: { 'X-Control-Nonce': nonce, 'X-Control-Proof': stopProof(controlKey, nonce) } });
    assert.equal(stop.status, 200);
    assert.equal(stop.headers['x-control-proof'], reportProof(controlKey, nonce, stop.body));
    const report = JSON.parse(stop.body) as UsageReport;
    assert.equal(report.rows[0].audience, ARM);
    assert.deepEqual(report.rows[0].userAgents, ['azsdk-js-identity/4.14']);
    assert.ok(!stop.body.includes('eyJ'));
    assert.equal((await server.stopped).stopReason, 'stop request');
    await assert.rejects(rawRequest(server.port, '/msi/token'), /ECONNREFUSED/);
  });

  it('asks again for a token that expires within 5 minutes (the emulator minting 4-minute tokens)', async () => {
    emu.machine.tokenLifetimeSeconds = 240;
    await start();
    const get = () => rawRequest(server.port, `/msi/token?api-version=2019-08-01&resource=${encodeURIComponent(ARM)}`, { headers: { 'X-IDENTITY-HEADER': secret } });
    const first = await get();
    const second = await get();
    assert.notEqual(first.json.access_token, second.json.access_token);
    assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 2);
    emu.machine.tokenLifetimeSeconds = 3600;
    const third = await get();
    const fourth = await get();
    assert.equal(third.json.access_token, fourth.json.access_token, 'an hour-long token is served from the cache');
    assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 3);
  });

  it('stops on its own when idle', async () => {
    await start({ idleMs: 100 });
    const report = await server.stopped;
    assert.equal(report.stopReason, 'idle');
  });
});

describe('identity server token cache and refresh (fake clock)', () => {
  it('answers from the cache until 5 minutes before expiry, then refreshes; a failed refresh keeps a token with time left', async () => {
    const clock = fakeClock(Date.parse('2030-01-01T00:00:00Z'));
    let calls = 0;
    let fail = false;
    const upstream = async (): Promise<CachedToken> => {
      calls++;
      if (fail) throw new ManagedIdentityError('noEndpoint', 'NoEndpoint', 'http://x', 'down');
      return { token: `token-${calls}`, expiresOn: new Date(clock.now() + 10 * 60_000) };
    };
    const secret = newServerSecret();
    const server = await startIdentityServer({ secret, controlKey: newServerSecret(), chosen: { kind: 'system' }, upstream, clock });
    try {
      const get = () => rawRequest(server.port, `/msi/token?api-version=2019-08-01&resource=${encodeURIComponent(ARM)}`, { headers: { 'X-IDENTITY-HEADER': secret } });
      assert.equal((await get()).json.access_token, 'token-1');
      await clock.sleep(4 * 60_000);
      assert.equal((await get()).json.access_token, 'token-1', '6 minutes left: cached');
      await clock.sleep(2 * 60_000);
      assert.equal((await get()).json.access_token, 'token-2', '4 minutes left: refreshed');
      fail = true;
      await clock.sleep(6 * 60_000);
      const kept = await get();
      assert.equal(kept.json.access_token, 'token-2', 'refresh failed, 4 minutes left: the cached token');
      await clock.sleep(3.5 * 60_000);
      const failed = await get();
      assert.equal(failed.status, 502);
      assert.equal(calls, 4);
    } finally {
      await server.stop('test');
    }
  });
});
