/**
 * Inputs and endpoint variables cannot inject a header or move a request to
 * another host or path: CR/LF, '@', '?' and '#' are refused before anything
 * is sent (or, where harmless, sent encoded), and a refused secret is never
 * repeated in the message.
 */
import { strict as assert } from 'node:assert';
import { AzureEmulator, ENTRA_TOKEN_ROUTE, IMDS_TOKEN_ROUTE, imdsEnv, startEmulator } from '../../emulator';
import { acquireToken } from '../../src/core/acquire';
import { userAssigned } from '../../src/core/identity';
import { watchEmulator } from '../helpers/scan';
import { failure, sourceOptions } from '../helpers/sources';
import type { SourceName } from '../../src/core/sources/types';

const INJECTED = '\r\nX-Injected: yes';

describe('header and URL injection', () => {
  let emu: AzureEmulator;
  beforeEach(async () => {
    emu = await startEmulator({ userAssigned: ['id-a'] });
    watchEmulator(emu);
  });
  afterEach(() => emu.stop());

  for (const [source, variable] of [
    ['appService', 'IDENTITY_HEADER'],
    ['appServiceLegacy', 'MSI_SECRET'],
    ['serviceFabric', 'IDENTITY_HEADER'],
  ] as const satisfies ReadonlyArray<readonly [SourceName, string]>) {
    it(`refuses a line break in ${source}'s ${variable} before any request, without repeating it`, async () => {
      const options = sourceOptions(emu, source);
      const secret = String(options.env?.[variable]);
      const e = await failure({ ...options, env: { ...options.env, [variable]: `${secret}${INJECTED}` } });
      assert.equal(e.kind, 'badInput');
      assert.equal(e.key, 'HeaderValueInvalid');
      assert.match(e.message, new RegExp(`environment variable ${variable}`));
      assert.ok(!e.message.includes(secret) && !e.message.includes('X-Injected'));
      assert.equal(emu.requests.length, 0);
    });
  }

  it('refuses an endpoint variable with a line break in it (the URL parser would drop it silently)', async () => {
    const options = sourceOptions(emu, 'appService');
    const endpoint = String(options.env?.IDENTITY_ENDPOINT);
    const e = await failure({ ...options, env: { ...options.env, IDENTITY_ENDPOINT: endpoint.replace('/msi/', `/msi${INJECTED}/`) } });
    assert.equal(e.key, 'EndpointVariableInvalid');
    assert.doesNotMatch(e.message, /[\r\n]/);
    assert.equal(emu.requests.length, 0);
  });

  for (const [what, base, key] of [
    ["a user name ('@') that would move the host", (url: string) => url.replace('//', '//attacker.invalid@'), 'EndpointVariableInvalid'],
    ["a query ('?') that would swallow the path", (url: string) => `${url}?x=`, 'EndpointBaseInvalid'],
    ["a fragment ('#') that would swallow the path", (url: string) => `${url}#`, 'EndpointBaseInvalid'],
    ['a line break', (url: string) => `${url}${INJECTED}`, 'EndpointVariableInvalid'],
  ] as const) {
    it(`refuses AZURE_POD_IDENTITY_AUTHORITY_HOST with ${what}, before any request`, async () => {
      const e = await failure({ audience: 'AzureResourceManager', env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: base(emu.url) } });
      assert.equal(e.kind, 'badInput');
      assert.equal(e.key, key);
      assert.doesNotMatch(e.message, /169\.254\.169\.254@/, 'a user name is not repeated');
      assert.equal(emu.requests.length, 0);
    });
  }

  it('refuses AZURE_AUTHORITY_HOST with a query, before the federated token is sent', async () => {
    const options = sourceOptions(emu, 'workloadIdentity');
    const e = await failure({ ...options, env: { ...options.env, AZURE_AUTHORITY_HOST: `${emu.url}/?tenant=` } });
    assert.equal(e.key, 'EndpointBaseInvalid');
    assert.equal(emu.received(ENTRA_TOKEN_ROUTE).length, 0);
    assert.equal(emu.requests.length, 0);
  });

  it("refuses an identityId with '@', '#', '?' or a line break before any request", async () => {
    const [a] = emu.machine.userAssigned;
    for (const [kind, id] of [
      ['clientId', `${a.clientId}${INJECTED}`],
      ['clientId', `${a.clientId}&object_id=x`],
      ['objectId', `${a.objectId}#`],
      ['resourceId', `${a.resourceId}?api-version=1`],
      ['resourceId', `${a.resourceId}@evil`],
      ['resourceId', `${a.resourceId}${INJECTED}`],
    ] as const) {
      assert.throws(() => userAssigned(kind, id), (e: Error & { kind?: string }) => e.kind === 'badInput', id);
    }
    assert.equal(emu.requests.length, 0);
  });

  it("refuses an audience with a fragment or a line break, and sends '?', '&' and '@' in a typed resource as one encoded parameter", async () => {
    for (const audience of ['https://myapp.contoso.com/#x', `https://myapp.contoso.com/${INJECTED}`]) {
      const e = await failure({ audience, env: imdsEnv(emu) });
      assert.equal(e.kind, 'badInput', audience);
    }
    assert.equal(emu.requests.length, 0);
    const typed = 'https://user@myapp.contoso.com/?x=1&client_id=evil';
    await acquireToken({ audience: typed, env: imdsEnv(emu) }).catch(() => undefined);
    const [req] = emu.received(IMDS_TOKEN_ROUTE);
    const params = new URL(req.url, 'http://x').searchParams;
    assert.equal(params.get('resource'), typed);
    assert.equal(params.get('client_id'), null, 'the typed resource added no parameter');
    assert.equal(req.headers.host, new URL(emu.url).host);
  });
});
