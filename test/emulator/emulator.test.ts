/** The emulator itself: the documented IMDS shapes, HTTPS with a pinned or trusted certificate, faults. */
import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { appServiceLegacyEnv, AzureEmulator, IMDS_TOKEN_ROUTE } from '../../emulator';
import { decodeJwtClaims } from '../../src/core/jwt';
import { useEmulator } from '../helpers/emulator';

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string; cert: X509Certificate }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { Metadata: 'true' } }, (res) => {
      const peer = (res.socket as import('node:tls').TLSSocket).getPeerX509Certificate();
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cert: peer! }));
    });
    req.on('error', reject).end();
  });
}

describe('the emulator', () => {
  let emu: AzureEmulator;
  useEmulator({ userAssigned: ['one'] }, (e) => {
    emu = e;
  }, { once: true });

  it('answers IMDS tokens with string fields only', async () => {
    const res = await fetch(`${emu.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net`, { headers: { Metadata: 'true' } });
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 200);
    for (const [k, v] of Object.entries(body)) assert.equal(typeof v, 'string', k);
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'client_id', 'expires_in', 'expires_on', 'ext_expires_in', 'not_before', 'resource', 'token_type']);
    const claims = decodeJwtClaims(body.access_token as string);
    assert.equal(claims?.aud, 'https://vault.azure.net');
    assert.match(String(claims?.xms_emulator), /^emu-/);
  });

  it('answers every route without regard to case and with or without a trailing slash, as Azure does', async () => {
    const legacy = appServiceLegacyEnv(emu);
    const asks: Array<[string, Record<string, string>]> = [
      // msal-node and @azure/identity under AZURE_POD_IDENTITY_AUTHORITY_HOST
      [`${emu.url}/metadata/identity/oauth2/token/?api-version=2018-02-01&resource=https://vault.azure.net`, { Metadata: 'true' }],
      [`${emu.url}/Metadata/Identity/OAuth2/Token?api-version=2018-02-01&resource=https://vault.azure.net`, { Metadata: 'true' }],
      // App Service's MSI_ENDPOINT ends in a slash; the Azure CLI asks {MSI_ENDPOINT}/?resource=…
      [`${legacy.MSI_ENDPOINT.toUpperCase().replace('HTTP://', 'http://')}//?api-version=2017-09-01&resource=https://vault.azure.net`, { secret: legacy.MSI_SECRET }],
    ];
    for (const [url, headers] of asks) {
      const res = await fetch(url, { headers });
      assert.equal(res.status, 200, `${url}: ${await res.text()}`);
    }
    // A route with parameters in its path (Resource Manager's) still reads them.
    await fetch(`${emu.url}/SUBSCRIPTIONS/${emu.machine.subscriptionId}/ResourceGroups/${emu.machine.resourceGroup}/?api-version=2022-09-01`);
    assert.notEqual(emu.requests.at(-1)?.route, 'unmatched');
  });

  it('refuses requests through a proxy and unknown api-versions as IMDS does', async () => {
    const proxied = await fetch(`${emu.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x`, { headers: { Metadata: 'true', 'X-Forwarded-For': '10.0.0.1' } });
    assert.equal(proxied.status, 400);
    const old = await fetch(`${emu.url}/metadata/identity/oauth2/token?api-version=2010-01-01&resource=https://vault.azure.net`, { headers: { Metadata: 'true' } });
    assert.equal(old.status, 400);
  });

  it('serves the same routes over HTTPS with a certificate that can be trusted or pinned', async () => {
    const res = await httpsGet(`${emu.httpsUrl}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`, emu.tls.cert);
    assert.equal(res.status, 200);
    assert.equal(res.cert.fingerprint.replace(/:/g, ''), emu.tls.thumbprint);
    assert.ok(res.cert.checkIP('127.0.0.1'));
  });

  it('plays scripted faults in order, then answers normally', async () => {
    emu.faults.script(IMDS_TOKEN_ROUTE, [{ status: 503, headers: { 'Retry-After': '2' } }, { status: 429, body: { error: 'throttled' } }]);
    const url = `${emu.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(url, { headers: { Metadata: 'true' } })).status);
    assert.deepEqual(statuses, [503, 429, 200]);
  });
});
