/** Service Fabric: HTTPS to a certificate pinned by IDENTITY_SERVER_THUMBPRINT, and nothing else. */
import { strict as assert } from 'node:assert';
import { AzureEmulator, SERVICE_FABRIC_TOKEN_ROUTE, serviceFabricEnv } from '../../../emulator';
import { makeCertificate } from '../../../emulator/tls';
import { acquireToken } from '../../../src/core/acquire';
import { failure, sourceOptions } from '../../helpers/sources';
import { useEmulator } from '../../helpers/emulator';

describe('Service Fabric token source', () => {
  let emu: AzureEmulator;
  useEmulator({}, (e) => {
    emu = e;
  });

  it('sends the secret header and api-version 2019-07-01-preview over HTTPS; the thumbprint matches in any case and with colons', async () => {
    const thumbprint = emu.tls.thumbprint.toLowerCase().replace(/(..)(?!$)/g, '$1:');
    const result = await acquireToken(sourceOptions(emu, 'serviceFabric', { env: { ...serviceFabricEnv(emu), IDENTITY_SERVER_THUMBPRINT: thumbprint } }));
    const [req] = emu.received(SERVICE_FABRIC_TOKEN_ROUTE);
    assert.equal(req.headers.secret, serviceFabricEnv(emu).IDENTITY_HEADER);
    assert.equal(new URL(req.url, 'https://x').searchParams.get('api-version'), '2019-07-01-preview');
    assert.equal(result.source, 'serviceFabric');
  });

  it('refuses a server whose certificate has another thumbprint, before sending anything', async () => {
    const other = await makeCertificate('not-the-token-service');
    const e = await failure(sourceOptions(emu, 'serviceFabric', { env: { ...serviceFabricEnv(emu), IDENTITY_SERVER_THUMBPRINT: other.thumbprint } }));
    assert.equal(e.key, 'ThumbprintMismatch');
    assert.match(e.message, new RegExp(`thumbprint ${emu.tls.thumbprint}, not the ${other.thumbprint}`));
    assert.equal(emu.requests.length, 0, 'no request reached the server');
  });

  it('refuses a plain-HTTP endpoint and a malformed thumbprint before any request', async () => {
    const http = await failure(sourceOptions(emu, 'serviceFabric', { env: { ...serviceFabricEnv(emu), IDENTITY_ENDPOINT: `${emu.url}/servicefabric/metadata/identity/oauth2/token` } }));
    assert.equal(http.key, 'EndpointVariableInvalid');
    assert.match(http.message, /not an https URL/);
    const bad = await failure(sourceOptions(emu, 'serviceFabric', { env: { ...serviceFabricEnv(emu), IDENTITY_SERVER_THUMBPRINT: 'abc' } }));
    assert.equal(bad.key, 'ThumbprintInvalid');
    assert.equal(emu.requests.length, 0);
  });

  it('maps the documented errors: an unknown secret means no identity', async () => {
    const e = await failure(sourceOptions(emu, 'serviceFabric', { env: { ...serviceFabricEnv(emu), IDENTITY_HEADER: 'stale' } }));
    assert.equal(e.key, 'IdentityNotFound');
    assert.match(e.message, /ManagedIdentityNotFound/);
  });
});
