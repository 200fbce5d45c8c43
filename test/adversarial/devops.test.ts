/**
 * verifyAzureDevOps against a hostile organization: a redirect to another
 * origin gets no token (nothing is sent there at all), a body that drips, an
 * answer that hangs after its headers and an endless chunked stream all end
 * within the deadline, and a plain-http collection URL (loopback aside) is
 * refused before a token is asked for. The core check, then the packaged
 * task under each handler.
 */
import { strict as assert } from 'node:assert';
import { AzureEmulator, imdsEnv } from '../../emulator';
import { acquireToken } from '../../src/core/acquire';
import { parseAudience } from '../../src/core/audience';
import { checkAzureDevOps } from '../../src/core/devops';
import { closeNetworkDispatchers } from '../../src/core/network';
import { useEmulator } from '../helpers/emulator';
import { behave, Behaviour, HostileServer, startHostileServer } from './hostile-server';
import { HANDLERS, runPackaged } from './packaged';

/** Generous: "did not hang", not speed. */
const DID_NOT_HANG_MS = 20_000;

describe('adversarial: verifyAzureDevOps', function () {
  this.timeout(90_000);
  let emu: AzureEmulator;
  let token: string;
  useEmulator(
    {},
    async (e) => {
      emu = e;
      token = (await acquireToken({ audience: parseAudience('AzureDevOps'), env: imdsEnv(emu) })).token;
    },
    { once: true },
  );
  const servers: HostileServer[] = [];
  async function server(behaviour: Behaviour): Promise<HostileServer> {
    const s = await startHostileServer(behaviour);
    servers.push(s);
    return s;
  }
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    await closeNetworkDispatchers();
  });

  it('does not follow a redirect to another origin: the other host gets nothing, the check is not "verified"', async () => {
    const elsewhere = await server(behave.token({}));
    const org = await server(behave.redirect(`${elsewhere.url}/contoso/_apis/connectionData`));
    const check = await checkAzureDevOps(`${org.url}/contoso/`, token, {});
    assert.equal(check.ok, false);
    assert.match(!check.ok ? check.detail : '', /HTTP 302, a redirect to http:\/\/127\.0\.0\.1:\d+, not followed/);
    assert.equal(org.requests[0].headers.authorization, `Bearer ${token}`);
    assert.equal(elsewhere.requests.length, 0);
  });

  for (const [what, behaviour] of [
    ['a body that drips a byte at a time', behave.drip(100)],
    ['an answer that hangs after its headers', behave.hangAfterHeaders()],
    ['an endless chunked body', behave.endlessChunks(5)],
  ] as const) {
    it(`ends within its deadline on ${what}`, async () => {
      const org = await server(behaviour);
      const started = Date.now();
      const check = await checkAzureDevOps(`${org.url}/contoso/`, token, {}, 1000);
      assert.ok(Date.now() - started < DID_NOT_HANG_MS, `took ${Date.now() - started} ms`);
      assert.equal(check.ok ? 'ok' : check.problem, 'unreachable');
    });
  }

  for (const [handler, node] of HANDLERS) {
    const verify = (collectionUri: string, label: string) =>
      runPackaged('ManagedIdentityTokenV1', `verifyAzureDevOps ${label} ${handler}`, {
        nodePath: node,
        inputs: { audience: 'AzureDevOps', verifyAzureDevOps: 'true', timeoutSeconds: '3' },
        variables: { 'System.CollectionUri': collectionUri },
        env: imdsEnv(emu),
        timeoutMs: 80_000,
      });

    it(`${handler}: the packaged task sends no token across a redirect and fails; a dripping organization ends by timeoutSeconds`, async () => {
      const elsewhere = await server(behave.token({}));
      const redirecting = await server(behave.redirect(`${elsewhere.url}/contoso/_apis/connectionData`));
      const redirected = await verify(`${redirecting.url}/contoso/`, 'redirect');
      assert.equal(redirected.result, 'Failed', redirected.log);
      assert.match(redirected.resultMessage ?? '', /redirect to http:\/\/127\.0\.0\.1:\d+, not followed/);
      assert.equal(elsewhere.requests.length, 0, 'the other origin got nothing');

      const dripping = await server(behave.drip(100));
      const dripped = await verify(`${dripping.url}/contoso/`, 'drip');
      assert.ok(dripped.durationMs < DID_NOT_HANG_MS, `the step took ${dripped.durationMs} ms`);
      assert.equal(dripped.result, 'Failed', dripped.log);
    });

    it(`${handler}: the packaged task refuses a plain-http collection URL before asking for a token`, async () => {
      const before = emu.minted.length;
      const run = await verify('http://tfs.contoso.invalid/tfs/DefaultCollection/', 'http');
      assert.equal(run.result, 'Failed', run.log);
      assert.match(run.resultMessage ?? '', /Refusing to send a token to http:\/\/tfs\.contoso\.invalid/);
      assert.equal(emu.minted.length, before, 'no token was asked for');
    });
  }
});
