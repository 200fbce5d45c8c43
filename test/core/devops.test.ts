import { strict as assert } from 'node:assert';
import { AzureEmulator, DEVOPS_CONNECTION_DATA_ROUTE, devopsOf, imdsEnv } from '../../emulator';
import { acquireToken } from '../../src/core/acquire';
import { parseAudience } from '../../src/core/audience';
import { checkAzureDevOps, connectionDataUrl, DEVOPS_ANONYMOUS_ID, DevOpsCheck, evaluateConnectionData, evaluateError, evaluateResponse, isDevOpsServicesUrl } from '../../src/core/devops';
import { HttpNetworkError } from '../../src/core/http';
import { withConnectProxy } from '../helpers/proxy';
import { useEmulator } from '../helpers/emulator';

function problemText(check: DevOpsCheck): string {
  return JSON.stringify(check);
}

function problem(check: DevOpsCheck): string {
  return check.ok ? 'ok' : check.problem;
}

describe('isDevOpsServicesUrl', () => {
  it('knows Azure DevOps Services collection URLs from Azure DevOps Server ones', () => {
    for (const url of ['https://dev.azure.com/contoso/', 'https://DEV.AZURE.COM/contoso', 'https://contoso.visualstudio.com/', 'https://contoso.visualstudio.com/DefaultCollection/']) assert.ok(isDevOpsServicesUrl(url), url);
    for (const url of ['https://tfs.contoso.com/DefaultCollection/', 'http://ado-server:8080/tfs/DefaultCollection/', 'https://dev.azure.com.evil.example/x', 'https://visualstudio.com.evil.example/', 'not a url', '']) assert.ok(!isDevOpsServicesUrl(url), url);
  });
});

describe('Azure DevOps check', () => {
  describe('reading the answers', () => {
    it('takes the authenticated user, and refuses the anonymous one', () => {
      const ok = evaluateConnectionData({ authenticatedUser: { id: 'abc', providerDisplayName: 'mi-build', descriptor: 'Microsoft.VisualStudio.Services.Claims.AadServicePrincipal;t\\o' } });
      assert.deepEqual(ok, { ok: true, identity: { id: 'abc', displayName: 'mi-build', descriptor: 'Microsoft.VisualStudio.Services.Claims.AadServicePrincipal;t\\o' } });
      assert.equal(problem(evaluateConnectionData({ authenticatedUser: { id: DEVOPS_ANONYMOUS_ID.toUpperCase(), providerDisplayName: 'Anonymous' } })), 'anonymous');
      assert.equal(problem(evaluateConnectionData({ authenticatedUser: { id: 'x', descriptor: 'Microsoft.TeamFoundation.UnauthenticatedIdentity;x' } })), 'anonymous');
      for (const empty of [null, undefined, {}, { authenticatedUser: null }, { authenticatedUser: {} }]) assert.equal(problem(evaluateConnectionData(empty)), 'noData');
    });

    it('tells a refusal, a sign-in page and a missing page apart, with the error codes', () => {
      const refused = evaluateResponse(401, 'application/json', JSON.stringify({ message: "TF400813: The user 't\\o' is not authorized to access this resource." }));
      assert.deepEqual(refused, { ok: false, problem: 'unauthorized', status: 401, detail: "TF400813: The user 't\\o' is not authorized to access this resource.", codes: ['TF400813'] });
      const signIn = evaluateResponse(203, 'text/html; charset=utf-8', '<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head></html>');
      assert.equal(problem(signIn), 'signIn');
      assert.match(signIn.ok ? '' : signIn.detail, /HTTP 203, an HTML page "Azure DevOps Services \| Sign In"/);
      assert.equal(problem(evaluateResponse(404, 'application/json', '{"message":"not found"}')), 'noData');
      assert.equal(problem(evaluateResponse(200, 'application/json', 'not json')), 'noData');
      assert.equal(problem(evaluateResponse(200, 'application/json', JSON.stringify({ authenticatedUser: { id: 'a', providerDisplayName: 'b' } }))), 'ok');
    });

    it('never puts a token from an error body into its message', () => {
      const jwt = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
      for (const body of [`access_token=opaque-secret-value`, JSON.stringify({ message: `bad token ${jwt}` }), `Bearer ${jwt}`]) {
        const check = evaluateResponse(401, 'text/plain', body);
        assert.ok(!check.ok);
        assert.ok(!problemText(check).includes('opaque-secret-value') && !problemText(check).includes(jwt), problemText(check));
      }
    });

    it('reads a request that got no answer as unreachable, keeping what failed', () => {
      const check = evaluateError(new HttpNetworkError('refused', 'http://127.0.0.1:1/', 'ECONNREFUSED connect ECONNREFUSED 127.0.0.1:1'));
      assert.equal(problem(check), 'unreachable');
      assert.match(problemText(check), /refused: ECONNREFUSED/);
    });

    it('refuses a collection URL that is not https, loopback aside, before sending anything', () => {
      assert.equal(connectionDataUrl('https://dev.azure.com/contoso'), 'https://dev.azure.com/contoso/_apis/connectionData');
      assert.equal(connectionDataUrl('http://127.0.0.1:8080/tfs/Default/'), 'http://127.0.0.1:8080/tfs/Default/_apis/connectionData');
      assert.throws(() => connectionDataUrl('http://tfs.contoso.com/tfs/Default/'), /Refusing to send a token to http:\/\/tfs\.contoso\.com/);
    });
  });

  describe('against the emulated organization', () => {
    let emu: AzureEmulator;
    let token: string;
    useEmulator({}, async (e) => {
      emu = e;
      token = (await acquireToken({ audience: parseAudience('AzureDevOps'), env: imdsEnv(emu) })).token;
    });
    const org = () => `${emu.url}/contoso/`;

    it('reports the identity of a member', async () => {
      const id = devopsOf(emu).addMember(emu.machine.systemAssigned!);
      const check = await checkAzureDevOps(org(), token, {});
      assert.deepEqual(check.ok && check.identity.id, id);
      assert.equal(check.ok && check.identity.displayName, 'agent-vm-01');
    });

    for (const [mode, expected] of [['anonymous', 'anonymous'], ['unauthorized', 'unauthorized'], ['signIn', 'signIn']] as const) {
      it(`reports ${expected} for a non-member when the organization answers ${mode}`, async () => {
        devopsOf(emu).whenNotMember = mode;
        assert.equal(problem(await checkAzureDevOps(org(), token, {})), expected);
      });
    }

    it("keeps Azure DevOps's ActivityId and X-VSS-E2EID with a refusal, for a support case", async () => {
      devopsOf(emu).whenNotMember = 'unauthorized';
      const check = await checkAzureDevOps(org(), token, {});
      assert.equal(check.ok, false);
      assert.match((!check.ok && check.support) || '', /^activityid [0-9a-f-]{36}, x-vss-e2eid [0-9a-f-]{36}$/);
    });

    it('reports no data where there is no organization, and unreachable where nothing listens', async () => {
      assert.equal(problem(await checkAzureDevOps(`${emu.url}/contoso/project/sub/`, token, {})), 'noData');
      const url = org();
      await emu.stop();
      assert.equal(problem(await checkAzureDevOps(url, token, {}, 2000)), 'unreachable');
    });

    it("honours the agent's proxy and trusted certificates", async () => {
      devopsOf(emu).addMember(emu.machine.systemAssigned!);
      // By name, as an organization is reached (TLS SNI takes no IP address: Node warns DEP0123 on one).
      const byName = emu.httpsUrl.replace('127.0.0.1', 'localhost');
      await withConnectProxy(async (proxy) => {
        const viaProxy = await checkAzureDevOps(`${byName}/contoso/`, token, { proxy: { url: proxy.url }, caFile: emu.tls.pemFile });
        assert.equal(problem(viaProxy), 'ok');
        assert.deepEqual(proxy.connects, [new URL(byName).host]);
        const bypassed = await checkAzureDevOps(org(), token, { proxy: { url: proxy.url, bypass: ['127\\.0\\.0\\.1'] } });
        assert.equal(problem(bypassed), 'ok');
        assert.equal(proxy.connects.length, 1, 'the bypassed host went direct');
      });
      const untrusted = await checkAzureDevOps(`${emu.httpsUrl}/contoso/`, token, {});
      assert.equal(problem(untrusted), 'unreachable', 'a self-signed certificate is not trusted without the CA');
      assert.equal(emu.received(DEVOPS_CONNECTION_DATA_ROUTE).length, 2);
    });
  });
});
