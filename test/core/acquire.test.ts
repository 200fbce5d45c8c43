import { strict as assert } from 'node:assert';
import { createServer } from 'node:net';
import { AzureEmulator, IMDS_TOKEN_ROUTE, imdsEnv } from '../../emulator';
import { acquireToken } from '../../src/core/acquire';
import { parseAudience } from '../../src/core/audience';
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
    const result = await acquireToken({ audience: parseAudience('https://management.azure.com/.default'), env });
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
      const result = await acquireToken({ audience: parseAudience('AzureResourceManager'), identity: userAssigned(kind, pick(target)), env });
      const url = new URL(emu.received(IMDS_TOKEN_ROUTE)[0].url, 'http://x');
      assert.equal(url.searchParams.get(param), pick(target));
      assert.equal(result.claims?.oid, target.objectId);
      assert.deepEqual(result.warnings, []);
    });
  }

  it('fails at once with advice on "Identity not found"', async () => {
    const e = await failure({ audience: parseAudience('AzureResourceManager'), identity: userAssigned('clientId', '11111111-2222-4333-8444-555555555555'), env });
    assert.equal(e.key, 'IdentityNotFound');
    assert.match(e.message, /Enable a system-assigned identity/);
    assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 1);
  });

  it('fails at once with advice on "Multiple user assigned identities exist"', async () => {
    await withEmulator({ systemAssigned: false, userAssigned: ['a', 'b'] }, async (noSystem) => {
      const e = await failure({ audience: parseAudience('AzureResourceManager'), env: imdsEnv(noSystem) });
      assert.equal(e.key, 'MultipleIdentities');
      assert.match(e.message, /identityType to userAssigned/);
      assert.equal(noSystem.received(IMDS_TOKEN_ROUTE).length, 1);
    });
  });

  it('explains an audience the tenant does not know', async () => {
    const e = await failure({ audience: parseAudience('api://nobody-registered-this'), env });
    assert.equal(e.key, 'UnknownResource');
    assert.match(e.message, /AADSTS500011/);
  });

  it('retries 410 through an upgrade, then succeeds', async () => {
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 410, body: 'IMDS is being upgraded' }, 8);
    const retries: string[] = [];
    const result = await acquireToken({ audience: parseAudience('AzureResourceManager'), env, retryPolicy: FAST, onRetry: (e) => retries.push(e.reason) });
    assert.ok(result.token);
    assert.equal(retries.length, 8, 'more than maxRetries while in the 410 window');
    assert.ok(retries.every((r) => r === 'HTTP 410'));
  });

  for (const status of [500, 502, 503, 504, 404, 408]) {
    it(`retries HTTP ${status}`, async () => {
      emu.faults.script(IMDS_TOKEN_ROUTE, { status, body: { error: 'server_error', error_description: 'try again' } }, 2);
      const result = await acquireToken({ audience: parseAudience('AzureResourceManager'), env, retryPolicy: FAST });
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
    await acquireToken({ audience: parseAudience('AzureResourceManager'), env, clock, onRetry: (e) => delays.push(e.delayMs) });
    assert.deepEqual(delays, [7000]);
    assert.ok(clock.now() - started >= 7000);
    assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 2);
  });

  describe('throttling is reported as throttling, a timeout only when nothing answered', () => {
    // A clock whose sleeps pass at once: the waits are measured on it, not waited for.
    const fakeClock = () => {
      let now = Date.now();
      return { now: () => now, sleep: async (ms: number) => void (now += ms) };
    };

    for (const status of [429, 503]) {
      it(`ends at once on HTTP ${status} whose Retry-After is longer than the time left, naming the answer, the wait and the time left`, async () => {
        emu.faults.script(IMDS_TOKEN_ROUTE, { status, headers: { 'Retry-After': '600' }, body: { error: 'too_many_requests', error_description: 'slow down' } }, 5);
        const e = await failure({ audience: parseAudience('AzureResourceManager'), env, clock: fakeClock(), timeoutSeconds: 120 });
        assert.equal(e.key, 'EndpointThrottled');
        assert.equal(e.kind, 'timeout');
        assert.match(e.message, new RegExp(`throttling the token requests: its last answer was HTTP ${status} \\(too_many_requests: slow down; Retry-After: 600 seconds\\) with 1[12]\\d seconds of timeoutSeconds left`));
        assert.match(e.message, /Raise timeoutSeconds.*fewer parallel jobs on this machine/);
        assert.doesNotMatch(e.message, /did not answer/);
        assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 1);
      });
    }

    it('names a 429 without Retry-After that outlasts the retries as throttling too', async () => {
      emu.faults.script(IMDS_TOKEN_ROUTE, { status: 429, body: { error: 'too_many_requests' } }, 10);
      const e = await failure({ audience: parseAudience('AzureResourceManager'), env, retryPolicy: FAST });
      assert.equal(e.key, 'EndpointThrottled');
      assert.match(e.message, /HTTP 429 \(too_many_requests; Retry-After: none\)/);
    });

    it('names the last answer (HTTP 500), not a timeout, when later attempts got no answer', async () => {
      emu.faults.script(IMDS_TOKEN_ROUTE, [{ status: 500, body: { error: 'server_error', error_description: 'broken' } }, ...Array.from({ length: 20 }, () => ({ hang: true }))]);
      const e = await failure({ audience: parseAudience('AzureResourceManager'), env, requestTimeoutMs: 100, timeoutSeconds: 1, retryPolicy: FAST });
      assert.equal(e.key, 'EndpointKeptFailing');
      assert.match(e.message, /kept answering HTTP 500 \(server_error: broken\)/);
      assert.ok(emu.received(IMDS_TOKEN_ROUTE).length >= 2);
    });

    it('names the last answer (HTTP 500), not a timeout, when the back-off outlasts the time left', async () => {
      emu.faults.script(IMDS_TOKEN_ROUTE, { status: 500, body: { error: 'server_error', error_description: 'broken' } }, 10);
      const e = await failure({ audience: parseAudience('AzureResourceManager'), env, clock: fakeClock(), timeoutSeconds: 5 });
      assert.equal(e.key, 'EndpointKeptFailing');
      assert.match(e.message, /kept answering HTTP 500 \(server_error: broken\)/);
      assert.doesNotMatch(e.message, /did not answer/);
      assert.ok(emu.received(IMDS_TOKEN_ROUTE).length < 6, 'the deadline, not the retry budget, ended it');
    });
  });

  it('gives up after the retry budget with the last answer, as an answer that kept failing (not a refusal)', async () => {
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 500, body: { error: 'server_error', error_description: 'broken' } }, 10);
    const e = await failure({ audience: parseAudience('AzureResourceManager'), env, retryPolicy: FAST });
    assert.equal(e.key, 'EndpointKeptFailing');
    assert.equal(e.kind, 'timeout');
    assert.match(e.message, /HTTP 500 \(server_error: broken\).*run again in a few minutes, or raise timeoutSeconds/);
    assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 6);
  });

  it('cuts off a hung server with the request timeout, within the deadline', async () => {
    emu.faults.script(IMDS_TOKEN_ROUTE, { hang: true }, 10);
    const started = Date.now();
    const e = await failure({ audience: parseAudience('AzureResourceManager'), env, requestTimeoutMs: 200, timeoutSeconds: 1, retryPolicy: FAST });
    assert.equal(e.kind, 'timeout');
    assert.ok(Date.now() - started < 3000);
  });

  it('says no endpoint answered when nothing listens, at once', async () => {
    const port = await closedPort();
    const started = Date.now();
    const e = await failure({ audience: parseAudience('AzureResourceManager'), env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${port}` } });
    assert.equal(e.kind, 'noEndpoint');
    assert.match(e.message, /No managed identity endpoint answered.*a self-hosted agent on a VM or scale set/);
    assert.ok(Date.now() - started < 2000);
  });

  describe("'no managed identity here' in all its forms", () => {
    // Docker Desktop's proxy answers for 169.254.169.254 where there is no IMDS. The bodies are those azure-identity
    // for Python (test_imds_request_failure_docker_desktop: JSON {error}, endings network, host and foo) and
    // Azure.Identity for .NET (ManagedIdentityCredentialTests: the plain text) test with.
    const text = (ending: string) =>
      `connecting to 169.254.169.254:80: connecting to 169.254.169.254:80: dial tcp 169.254.169.254:80: connectex: A socket operation was attempted to an unreachable ${ending}.`;
    for (const [what, body] of [
      ['plain text, unreachable network', text('network')],
      ['plain text, unreachable host', text('host')],
      ['JSON {error}, unreachable network', { error: text('network') }],
      ['JSON {error}, unreachable foo', { error: text('foo') }],
    ] as const) {
      it(`reads IMDS answering 403 with ${what} as no endpoint, with the advice for an unreachable IMDS`, async () => {
        emu.faults.script(IMDS_TOKEN_ROUTE, { status: 403, body });
        const e = await failure({ audience: parseAudience('AzureResourceManager'), env });
        assert.equal(e.kind, 'noEndpoint');
        assert.equal(e.key, 'NoEndpoint');
        assert.match(e.message, /^No managed identity endpoint answered \(http:\/\/127\.0\.0\.1:\d+: HTTP 403 from a proxy, not IMDS: .*unreachable.*a self-hosted agent on a VM or scale set/);
        assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 1);
      });
    }

    it('still reads any other 403 as a refusal', async () => {
      emu.faults.script(IMDS_TOKEN_ROUTE, { status: 403, body: { error: 'forbidden', error_description: 'Access denied' } });
      const e = await failure({ audience: parseAudience('AzureResourceManager'), env });
      assert.equal(e.kind, 'refused');
      assert.equal(e.key, 'EndpointRefused');
    });
  });

  it('refuses a body that is not JSON without echoing it', async () => {
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 200, body: 'access_token=eyJsecret.secret.secret' });
    const e = await failure({ audience: parseAudience('AzureResourceManager'), env });
    assert.equal(e.key, 'ResponseNotJson');
    assert.doesNotMatch(e.message, /eyJsecret/);
  });

  it('shows a short plain-text refusal, but never one that may hold a token, even an opaque one', async () => {
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 400, body: 'Bad request: resource missing' });
    const plain = await failure({ audience: parseAudience('AzureResourceManager'), env });
    assert.equal(plain.key, 'EndpointRefused');
    assert.match(plain.message, /HTTP 400: Bad request: resource missing/);
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 400, body: 'access_token=opaque-secret-1234&expires_on=1893456000' });
    const secret = await failure({ audience: parseAudience('AzureResourceManager'), env });
    assert.equal(secret.key, 'EndpointRefused');
    assert.doesNotMatch(secret.message, /opaque-secret-1234/);
    assert.match(secret.message, /\d+ bytes, not JSON/);
  });

  it('refuses JSON without access_token', async () => {
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 200, body: { token_type: 'Bearer', expires_on: '1893456000' } });
    const e = await failure({ audience: parseAudience('AzureResourceManager'), env });
    assert.equal(e.key, 'ResponseNoToken');
    assert.match(e.message, /token_type, expires_on/);
  });

  it('refuses an answer over 1 MB', async () => {
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 200, body: { access_token: 'x'.repeat(1_100_000), expires_on: '1893456000' } });
    const e = await failure({ audience: parseAudience('AzureResourceManager'), env });
    assert.equal(e.key, 'ResponseTooLarge');
  });

  it('reports the emulator refusing a request without the Metadata header', async () => {
    const res = await fetch(`${emu.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/`);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: 'bad_request_102', error_description: 'Required metadata header not specified' });
  });

  describe("the token's lifetime", () => {
    const answer = (lifetimeSeconds: number) => {
      const exp = Math.floor(Date.now() / 1000) + lifetimeSeconds;
      const a = emu.machine.systemAssigned!;
      const minted = emu.mint({ audience: 'https://management.azure.com/', clientId: a.clientId, objectId: a.objectId, miResourceId: a.resourceId });
      emu.faults.script(IMDS_TOKEN_ROUTE, { status: 200, body: { access_token: minted.token, expires_on: String(exp), token_type: 'Bearer' } });
      return new Date(exp * 1000).toISOString();
    };

    it("fails on a token that has already expired, naming the expiry and the endpoint's cache or the clock", async () => {
      const expiry = answer(-90);
      const e = await failure({ audience: parseAudience('AzureResourceManager'), env });
      assert.equal(e.key, 'TokenExpired');
      assert.equal(e.kind, 'badResponse');
      assert.ok(e.message.includes(`expired at ${expiry}`), e.message);
      assert.match(e.message, /token cache or this machine's clock is wrong/);
      assert.equal(emu.received(IMDS_TOKEN_ROUTE).length, 1, 'not retried: another try would not mend a clock');
    });

    it('warns about a token that expires within 5 minutes: later steps may not be able to use it', async () => {
      const expiry = answer(240);
      const result = await acquireToken({ audience: parseAudience('AzureResourceManager'), env });
      assert.deepEqual(result.warnings.map((w) => w.key), ['TokenExpiresSoon']);
      assert.equal(result.warnings[0].args[0], expiry);
      assert.ok(Number(result.warnings[0].args[1]) > 200 && Number(result.warnings[0].args[1]) <= 240);
    });

    it('says nothing about a token with more than 5 minutes left', async () => {
      answer(600);
      const result = await acquireToken({ audience: parseAudience('AzureResourceManager'), env });
      assert.deepEqual(result.warnings, []);
    });
  });

  it('warns when the token is for another identity than asked', async () => {
    const [a, b] = emu.machine.userAssigned;
    const minted = emu.mint({ audience: 'https://management.azure.com/', clientId: b.clientId, objectId: b.objectId, miResourceId: b.resourceId });
    emu.faults.script(IMDS_TOKEN_ROUTE, { status: 200, body: { access_token: minted.token, expires_on: String(minted.claims.exp), token_type: 'Bearer' } });
    const result = await acquireToken({ audience: parseAudience('AzureResourceManager'), identity: userAssigned('clientId', a.clientId), env });
    assert.equal(result.warnings.length, 1);
    assert.equal(result.warnings[0].key, 'IdentityMismatch');
  });
});
