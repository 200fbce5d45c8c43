/** The emulator speaks each host's documented protocol: headers, parameters, field types and error shapes. */
import { strict as assert } from 'node:assert';
import {
  appServiceEnv,
  appServiceLegacyEnv,
  AzureEmulator,
  cloudShellEnv,
  federatedToken,
  legacyExpiresOn,
  serviceFabricEnv,
} from '../../emulator';
import { Agent, request } from 'undici';
import { decodeJwtClaims } from '../../src/core/jwt';
import { useEmulator } from '../helpers/emulator';

const ARM = encodeURIComponent('https://management.azure.com/');

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

function types(body: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, Array.isArray(v) ? 'array' : typeof v]));
}

describe('the emulated hosts', () => {
  let emu: AzureEmulator;
  useEmulator({ userAssigned: ['one', 'two'] }, (e) => {
    emu = e;
  }, { once: true });

  it('App Service 2019-08-01: X-IDENTITY-HEADER, string epochs and client_id; {statusCode, message, correlationId} errors', async () => {
    const { IDENTITY_ENDPOINT: endpoint, IDENTITY_HEADER: header } = appServiceEnv(emu);
    const ok = await fetch(`${endpoint}?api-version=2019-08-01&resource=${ARM}`, { headers: { 'X-IDENTITY-HEADER': header } });
    assert.deepEqual(types(await json(ok)), { access_token: 'string', client_id: 'string', expires_on: 'string', not_before: 'string', resource: 'string', token_type: 'string' });
    const two = emu.machine.userAssigned[1];
    const byPrincipal = await json(await fetch(`${endpoint}?api-version=2019-08-01&resource=${ARM}&principal_id=${two.objectId}`, { headers: { 'X-IDENTITY-HEADER': header } }));
    assert.equal(byPrincipal.client_id, two.clientId);
    const noHeader = await fetch(`${endpoint}?api-version=2019-08-01&resource=${ARM}`);
    assert.equal(noHeader.status, 401);
    assert.deepEqual(Object.keys(await json(noHeader)), ['statusCode', 'message', 'correlationId']);
    const both = await fetch(`${endpoint}?api-version=2019-08-01&resource=${ARM}&client_id=${two.clientId}&mi_res_id=x`, { headers: { 'X-IDENTITY-HEADER': header } });
    assert.equal(both.status, 400);
  });

  it('App Service 2017-09-01: the secret header, clientid, and expires_on as an en-US date string', async () => {
    const { MSI_ENDPOINT: endpoint, MSI_SECRET: secret } = appServiceLegacyEnv(emu);
    const body = await json(await fetch(`${endpoint}?api-version=2017-09-01&resource=${ARM}`, { headers: { secret } }));
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_on', 'resource', 'token_type']);
    assert.match(String(body.expires_on), /^\d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M \+00:00$/);
    assert.equal(legacyExpiresOn(1893456000), '1/1/2030 12:00:00 AM +00:00');
    assert.equal(legacyExpiresOn(1908187452), '6/20/2030 12:04:12 PM +00:00');
    assert.equal(legacyExpiresOn(1908187452, 'linux'), '06/20/2030 12:04:12 +00:00');
    assert.equal(legacyExpiresOn(1893456000 + 5 * 3600, 'linux'), '01/01/2030 05:00:00 +00:00');
    const wrongVersion = await fetch(`${endpoint}?api-version=2019-08-01&resource=${ARM}`, { headers: { secret } });
    assert.equal(wrongVersion.status, 400);
  });

  it('Cloud Shell: POST with Metadata: true and a form body', async () => {
    const { MSI_ENDPOINT: endpoint } = cloudShellEnv(emu);
    const post = (headers: Record<string, string>) => fetch(endpoint, { method: 'POST', headers, body: 'resource=https%3A%2F%2Fvault.azure.net' });
    const ok = await post({ Metadata: 'true', 'Content-Type': 'application/x-www-form-urlencoded' });
    assert.equal(ok.status, 200);
    assert.equal(decodeJwtClaims(String((await json(ok)).access_token))?.aud, 'https://vault.azure.net');
    assert.equal((await post({ 'Content-Type': 'application/x-www-form-urlencoded' })).status, 400);
    assert.equal((await fetch(endpoint, { headers: { Metadata: 'true' } })).status, 404, 'GET is not served');
  });

  it('Service Fabric: HTTPS only, a numeric expires_on, {error: {correlationId, code, message}} errors', async () => {
    const { IDENTITY_ENDPOINT: endpoint, IDENTITY_HEADER: secret } = serviceFabricEnv(emu);
    const trusting = new Agent({ connect: { ca: emu.tls.cert } });
    try {
      const ok = await request(`${endpoint}?api-version=2019-07-01-preview&resource=${ARM}`, { headers: { secret }, dispatcher: trusting });
      assert.deepEqual(types((await ok.body.json()) as Record<string, unknown>), { token_type: 'string', access_token: 'string', expires_on: 'number', resource: 'string' });
    } finally {
      await trusting.close();
    }
    const plain = await fetch(`${endpoint.replace(emu.httpsUrl, emu.url)}?api-version=2019-07-01-preview&resource=${ARM}`, { headers: { secret } });
    assert.equal(plain.status, 400);
    const error = (await json(plain)).error as Record<string, unknown>;
    assert.deepEqual(Object.keys(error), ['correlationId', 'code', 'message']);
  });

  it('Entra ID v2: numeric expires_in on success, the full AADSTS shape on refusal', async () => {
    const url = `${emu.url}/${emu.machine.tenantId}/oauth2/v2.0/token`;
    const form = (assertion: string, clientId: string) =>
      new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        scope: 'https://management.azure.com/.default',
        client_assertion: assertion,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      });
    const id = emu.machine.userAssigned[0];
    const ok = await fetch(url, { method: 'POST', body: form(federatedToken(emu), id.clientId) });
    assert.deepEqual(types(await json(ok)), { token_type: 'string', expires_in: 'number', ext_expires_in: 'number', access_token: 'string' });
    const refused = await fetch(url, { method: 'POST', body: form(federatedToken(emu, { issuer: 'https://evil.example/' }), id.clientId) });
    assert.equal(refused.status, 401);
    const body = await json(refused);
    assert.deepEqual(Object.keys(body), ['error', 'error_description', 'error_codes', 'timestamp', 'trace_id', 'correlation_id', 'error_uri']);
    assert.deepEqual(body.error_codes, [700211]);
    assert.match(String(body.error_description), /^AADSTS700211: No matching federated identity record found for presented assertion issuer 'https:\/\/evil\.example\/'/);
    assert.match(String(body.timestamp), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
  });
});
