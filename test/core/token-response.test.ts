/**
 * What token-response.ts reads of an answer for messages. Support details: the correlation and request IDs a service gives with a
 * refusal stay in the error (a support case needs them); nothing else of the
 * answer goes that way, and never a token.
 */
import { strict as assert } from 'node:assert';
import { APP_SERVICE_TOKEN_ROUTE, AzureEmulator, SERVICE_FABRIC_TOKEN_ROUTE } from '../../emulator';
import { userAssigned } from '../../src/core/identity';
import type { HttpResponse } from '../../src/core/http';
import { closeNetworkDispatchers } from '../../src/core/network';
import { supportDetails } from '../../src/core/token-response';
import { useEmulator } from '../helpers/emulator';
import { failure, sourceOptions } from '../helpers/sources';

const res = (body: unknown, headers: Record<string, string> = {}): HttpResponse => ({ status: 400, headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
const A = '7fc7a5c5-1111-4222-8333-444444444444';
const B = '0a1b2c3d-5555-4666-8777-888888888888';

describe('support details', () => {
  it("reads App Service's correlationId, Entra ID's correlation_id and trace_id, Service Fabric's nested correlationId, and the x-ms request headers", () => {
    assert.equal(supportDetails(res({ statusCode: 400, message: 'Unable to load the proper Managed Identity.', correlationId: A })), `correlationId ${A}`);
    assert.equal(supportDetails(res({ error: 'invalid_client', trace_id: A, correlation_id: B })), `correlation_id ${B}, trace_id ${A}`);
    assert.equal(supportDetails(res({ error: { correlationId: A, code: 'SecretHeaderNotFound', message: 'x' } })), `correlationId ${A}`);
    assert.equal(supportDetails(res('', { 'x-ms-request-id': A, 'x-ms-correlation-request-id': B })), `x-ms-request-id ${A}, x-ms-correlation-request-id ${B}`);
  });

  it('names each ID once, leaves out one the message already shows, and gives undefined when there is none', () => {
    assert.equal(supportDetails(res({ trace_id: A }, { 'x-ms-request-id': A.toUpperCase() })), `trace_id ${A}`);
    assert.equal(supportDetails(res({ trace_id: A, correlation_id: B }), `AADSTS700016: … Trace ID: ${A} Correlation ID: ${B}`), undefined);
    assert.equal(supportDetails(res({ error: 'x' })), undefined);
    assert.equal(supportDetails(res('not json')), undefined);
  });

  it('takes nothing that is not shaped like an ID: no token, no line break, nothing long', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    for (const value of [jwt, `${A}\r\nX-Injected: 1`, 'a'.repeat(65), 'short', 42, { id: A }]) {
      assert.equal(supportDetails(res({ correlationId: value }, { 'x-ms-request-id': typeof value === 'string' ? value : '' })), undefined, JSON.stringify(value));
    }
  });

  describe('in the errors of the token sources', () => {
    let emu: AzureEmulator;
    useEmulator({ userAssigned: ['agents'] }, (e) => {
      emu = e;
    });
    afterEach(() => closeNetworkDispatchers());

    it("keeps App Service's correlationId in the refusal", async () => {
      const e = await failure(sourceOptions(emu, 'appService', { identity: userAssigned('clientId', '0f0f0f0f-1111-4222-8333-444444444444') }));
      assert.equal(e.key, 'IdentityNotFound');
      const [sent] = emu.received(APP_SERVICE_TOKEN_ROUTE);
      assert.ok(sent);
      assert.match(e.support ?? '', /^correlationId [0-9a-f-]{36}$/);
      assert.ok(e.message.endsWith(`Support details (give them to Azure support if you open a case): ${e.support}.`), e.message);
    });

    it("keeps Service Fabric's correlationId, nested in {error}", async () => {
      emu.faults.script(SERVICE_FABRIC_TOKEN_ROUTE, { status: 400, body: { error: { correlationId: A, code: 'SecretHeaderNotFound', message: 'Secret is not found in the request headers.' } } });
      const e = await failure(sourceOptions(emu, 'serviceFabric'));
      assert.equal(e.support, `correlationId ${A}`);
    });

    it("keeps Entra ID's trace and correlation IDs once: in its description, not again", async () => {
      const e = await failure(sourceOptions(emu, 'workloadIdentity', { identity: userAssigned('clientId', '0f0f0f0f-1111-4222-8333-444444444444') }));
      assert.equal(e.key, 'EntraClientNotFound');
      assert.match(e.message, /Trace ID: [0-9a-f-]{36} Correlation ID: [0-9a-f-]{36}/);
      assert.equal(e.support, undefined);
    });

    it('keeps them in a throttling error too', async () => {
      emu.faults.script(APP_SERVICE_TOKEN_ROUTE, { status: 429, headers: { 'Retry-After': '600' }, body: { statusCode: 429, message: 'Too many requests', correlationId: A } });
      const e = await failure({ ...sourceOptions(emu, 'appService'), timeoutSeconds: 5 });
      assert.equal(e.key, 'EndpointThrottled');
      assert.equal(e.support, `correlationId ${A}`);
    });
  });
});
