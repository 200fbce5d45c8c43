/**
 * Inputs and endpoint variables cannot inject a header or move a request to
 * another host or path: CR/LF, '@', '?' and '#' are refused before anything
 * is sent (or, where harmless, sent encoded), and a refused secret is never
 * repeated in the message.
 */
import { strict as assert } from 'node:assert';
import { AzureEmulator, ENTRA_TOKEN_ROUTE, IMDS_INSTANCE_ROUTE, IMDS_TOKEN_ROUTE, imdsEnv } from '../../emulator';
import { acquireToken } from '../../src/core/acquire';
import { parseAudience } from '../../src/core/audience';
import type { ManagedIdentityError } from '../../src/core/errors';
import { userAssigned } from '../../src/core/identity';
import { gatherInfo } from '../../src/core/info';
import { parseResourceGroup, parseSubscriptionId } from '../../src/core/resources';
import { parseVaultRefs } from '../../src/core/keyvault';
import { closeNetworkDispatchers } from '../../src/core/network';
import { APP_SERVICE_API_VERSION } from '../../src/core/sources/app-service';
import { APP_SERVICE_LEGACY_API_VERSION } from '../../src/core/sources/app-service-legacy';
import { ARC_API_VERSION } from '../../src/core/sources/azure-arc';
import { SERVICE_FABRIC_API_VERSION } from '../../src/core/sources/service-fabric';
import { emulatorCloud } from '../helpers/info';
import { failure, SOURCE_CASES, sentParams, sourceOptions } from '../helpers/sources';
import type { SourceName } from '../../src/core/sources/types';
import { useEmulator } from '../helpers/emulator';

const INJECTED = '\r\nX-Injected: yes';

describe('header and URL injection', () => {
  let emu: AzureEmulator;
  useEmulator({ userAssigned: ['id-a'] }, (e) => {
    emu = e;
  });
  afterEach(() => closeNetworkDispatchers());

  for (const [source, variable] of [
    ['appService', 'IDENTITY_HEADER'],
    ['appServiceLegacy', 'MSI_SECRET'],
    ['serviceFabric', 'IDENTITY_HEADER'],
  ] as const satisfies ReadonlyArray<readonly [SourceName, string]>) {
    it(`refuses a line break in ${source}'s ${variable} before any request, without repeating it`, async () => {
      const options = sourceOptions(emu, source);
      const secret = String(options.env?.[variable]);
      const e = await failure({ ...options, env: { ...options.env, [variable]: `${secret}${INJECTED}` } });
      assert.equal(e.kind, 'hostSetup');
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
      const e = await failure({ audience: parseAudience('AzureResourceManager'), env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: base(emu.url) } });
      assert.equal(e.kind, 'hostSetup');
      assert.equal(e.key, key);
      assert.doesNotMatch(e.message, /169\.254\.169\.254@/, 'a user name is not repeated');
      assert.equal(emu.requests.length, 0);
    });
  }

  it('refuses AZURE_AUTHORITY_HOST with a query, before the federated token is sent', async () => {
    const options = sourceOptions(emu, 'workloadIdentity');
    const e = await failure({ ...options, env: { ...options.env, AZURE_AUTHORITY_HOST: `${emu.httpsUrl}/?tenant=` } });
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
      assert.throws(() => parseAudience(audience), (e: ManagedIdentityError) => e.kind === 'badInput', audience);
    }
    assert.equal(emu.requests.length, 0);
    const typed = 'https://user@myapp.contoso.com/?x=1&client_id=evil';
    await acquireToken({ audience: parseAudience(typed), env: imdsEnv(emu) }).catch(() => undefined);
    const [req] = emu.received(IMDS_TOKEN_ROUTE);
    const params = new URL(req.url, 'http://x').searchParams;
    assert.equal(params.get('resource'), typed);
    assert.equal(params.get('client_id'), null, 'the typed resource added no parameter');
    assert.equal(req.headers.host, new URL(emu.url).host);
  });

  // Every endpoint variable, not only App Service's: a user name would move the request to another host, and a
  // line break or tab would be dropped by the URL parser (joining two lines into another URL).
  const endpointVariables = [
    ['appService', 'IDENTITY_ENDPOINT'],
    ['appServiceLegacy', 'MSI_ENDPOINT'],
    ['appServiceLegacy', 'IDENTITY_ENDPOINT'],
    ['cloudShell', 'MSI_ENDPOINT'],
    ['serviceFabric', 'IDENTITY_ENDPOINT'],
    ['azureArc', 'IDENTITY_ENDPOINT'],
  ] as const satisfies ReadonlyArray<readonly [SourceName, string]>;
  const endpointCases = endpointVariables.flatMap(([source, variable]) =>
    (['userinfo', 'tab', 'newline'] as const)
      // App Service's line break is checked above.
      .filter((bad) => !(source === 'appService' && bad === 'newline'))
      .map((bad) => [source, variable, bad] as const),
  );
  /** The source's environment with `variable` set to change(its URL); returns that URL too. */
  const endpointEnv = (source: SourceName, variable: string, change: (url: string) => string) => {
    const env = { ...sourceOptions(emu, source).env };
    const url = String(env[variable] ?? env.MSI_ENDPOINT);
    // Azure Machine Learning's form of the 2017 protocol: IDENTITY_ENDPOINT with MSI_SECRET and no MSI_ENDPOINT.
    if (source === 'appServiceLegacy' && variable === 'IDENTITY_ENDPOINT') delete env.MSI_ENDPOINT;
    env[variable] = change(url);
    return { env, url };
  };
  for (const [source, variable, bad] of endpointCases) {
    it(`refuses ${source}'s ${variable} with a ${bad} in it, before any request`, async () => {
      const options = sourceOptions(emu, source);
      const { env } = endpointEnv(source, variable, (url) =>
        bad === 'userinfo' ? url.replace('//', '//attacker.invalid@') : url.replace('127.0.0.1', bad === 'tab' ? '127.0.0.1\t' : `127.0.0.1${INJECTED}`),
      );
      const e = await failure({ ...options, env, identitySource: source });
      assert.equal(e.key, 'EndpointVariableInvalid');
      assert.doesNotMatch(e.message, /attacker\.invalid|[\r\n\t]/);
      assert.equal(emu.requests.length, 0);
    });
  }

  // A fragment is never sent, and what follows '#' or '?' (a '@', a '/', another host) moves nothing.
  for (const [source, variable] of endpointVariables) {
    for (const suffix of ['#@attacker.invalid/x', '?next=@attacker.invalid/x#y']) {
      it(`${source}: ${variable} ending in '${suffix}' still reaches its own host and path`, async () => {
        const { env, url } = endpointEnv(source, variable, (u) => `${u}${suffix}`);
        await acquireToken({ ...sourceOptions(emu, source), env, identitySource: source }).catch(() => undefined);
        const sent = emu.received(SOURCE_CASES.find((c) => c.name === source)!.route);
        assert.ok(sent.length > 0, 'the request was sent');
        for (const req of sent) {
          assert.equal(req.headers.host, new URL(url).host);
          assert.equal(new URL(req.url, 'http://x').pathname, new URL(url).pathname);
          assert.ok(!req.url.includes('#'), 'no fragment on the wire');
        }
        assert.equal(emu.requests.length, sent.length, 'nothing else was asked');
      });
    }
  }

  for (const [source, variable, apiVersion] of [
    ['appService', 'IDENTITY_ENDPOINT', APP_SERVICE_API_VERSION],
    ['appServiceLegacy', 'MSI_ENDPOINT', APP_SERVICE_LEGACY_API_VERSION],
    ['serviceFabric', 'IDENTITY_ENDPOINT', SERVICE_FABRIC_API_VERSION],
    ['azureArc', 'IDENTITY_ENDPOINT', ARC_API_VERSION],
  ] as const satisfies ReadonlyArray<readonly [SourceName, string, string]>) {
    it(`sends ${source}'s own api-version and resource once, whatever the query of ${variable} says`, async () => {
      const options = sourceOptions(emu, source);
      const env = { ...options.env, [variable]: `${options.env?.[variable]}?api-version=1999-01-01&resource=https://evil.example/` };
      await acquireToken({ ...options, env, identitySource: source }).catch(() => undefined);
      const [req] = emu.received(SOURCE_CASES.find((c) => c.name === source)!.route);
      const params = new URL(req.url, 'http://x').searchParams;
      assert.deepEqual(params.getAll('api-version'), [apiVersion]);
      assert.deepEqual(params.getAll('resource'), ['https://management.azure.com/']);
      assert.equal(req.headers.host, new URL(String(env[variable])).host);
    });
  }

  // IMDS is checked above; every other source sends a typed resource as one encoded parameter (or form field) too.
  for (const c of SOURCE_CASES.filter((sc) => sc.name !== 'imds')) {
    it(`${c.name}: '?', '&' and '@' in a typed audience stay inside its one resource parameter`, async () => {
      const typed = 'https://user@myapp.contoso.com/?x=1&client_id=evil';
      const options = sourceOptions(emu, c.name, { audience: parseAudience(typed) });
      await acquireToken({ ...options, identitySource: c.name }).catch(() => undefined);
      const [req] = emu.received(c.route);
      assert.ok(req, 'the request was sent');
      const params = sentParams(req, c.paramsIn);
      const sent = c.name === 'workloadIdentity' ? params.getAll('scope') : params.getAll('resource');
      assert.deepEqual(sent, [c.name === 'workloadIdentity' ? `${typed}/.default` : typed]);
      assert.ok(!params.getAll('client_id').includes('evil'), 'the typed resource added no parameter');
      assert.equal(req.headers.host, new URL(c.name === 'serviceFabric' || c.name === 'workloadIdentity' ? emu.httpsUrl : emu.url).host);
    });
  }

  for (const [what, host] of [
    ["a user name ('@')", (url: string) => url.replace('//', '//attacker.invalid@')],
    ["a fragment ('#')", (url: string) => `${url}#`],
    ['a line break', (url: string) => `${url}${INJECTED}`],
  ] as const) {
    it(`refuses AZURE_AUTHORITY_HOST with ${what}, before the federated token is sent`, async () => {
      const options = sourceOptions(emu, 'workloadIdentity');
      const e = await failure({ ...options, env: { ...options.env, AZURE_AUTHORITY_HOST: host(emu.httpsUrl) } });
      assert.equal(e.kind, 'hostSetup');
      assert.equal(emu.requests.length, 0);
    });
  }

  it("refuses an AZURE_TENANT_ID that would change the token URL's path or add a header, before anything is sent", async () => {
    const options = sourceOptions(emu, 'workloadIdentity');
    for (const tenant of ['contoso@evil.example', 'contoso/oauth2', 'contoso?x=1', 'contoso#', 'contoso%2f..', `contoso${INJECTED}`, '.']) {
      const e = await failure({ ...options, env: { ...options.env, AZURE_TENANT_ID: tenant } });
      assert.equal(e.key, 'WorkloadIdentityTenantInvalid', tenant);
      assert.doesNotMatch(e.message, /[\r\n]/);
    }
    assert.equal(emu.requests.length, 0);
  });

  it('names a malformed IDENTITY_SERVER_THUMBPRINT or AZURE_FEDERATED_TOKEN_FILE on one line', async () => {
    const fabric = sourceOptions(emu, 'serviceFabric');
    const thumbprint = await failure({ ...fabric, env: { ...fabric.env, IDENTITY_SERVER_THUMBPRINT: `AB${INJECTED}` } });
    const federated = sourceOptions(emu, 'workloadIdentity');
    const file = await failure({ ...federated, env: { ...federated.env, AZURE_FEDERATED_TOKEN_FILE: `/nonexistent${INJECTED}` } });
    for (const [e, key] of [[thumbprint, 'ThumbprintInvalid'], [file, 'FederatedTokenFileUnreadable']] as const) {
      assert.equal(e.key, key);
      assert.doesNotMatch(e.message, /[\r\n]/);
    }
    assert.equal(emu.requests.length, 0);
  });

  describe('ManagedIdentityInfo@1 inputs that become Resource Manager and Key Vault URLs', () => {
    const GUID = '00000000-1111-4222-8333-444444444444';
    // As the task does: the inputs are parsed at the edge, then the core is called.
    const info = async (inputs: { subscriptionId?: string; resourceGroup?: string }) =>
      gatherInfo({
        token: { env: imdsEnv(emu) },
        env: imdsEnv(emu),
        cloud: emulatorCloud(emu),
        sections: ['resources'],
        subscriptionId: parseSubscriptionId(inputs.subscriptionId),
        resourceGroup: parseResourceGroup(inputs.resourceGroup),
      });

    for (const [input, value, key] of [
      ['subscriptionId', `${GUID}/resourceGroups/other`, 'SubscriptionIdInvalid'],
      ['subscriptionId', `${GUID}?api-version=1`, 'SubscriptionIdInvalid'],
      ['subscriptionId', `${GUID}${INJECTED}`, 'SubscriptionIdInvalid'],
      ['resourceGroup', 'rg?api-version=1', 'ResourceGroupInvalid'],
      ['resourceGroup', 'rg#', 'ResourceGroupInvalid'],
      ['resourceGroup', 'rg%2f..', 'ResourceGroupInvalid'],
      ['resourceGroup', 'rg\\..', 'ResourceGroupInvalid'],
      ['resourceGroup', `rg${INJECTED}`, 'ResourceGroupInvalid'],
    ] as const) {
      it(`refuses ${input} ${JSON.stringify(value)} before any request`, async () => {
        await assert.rejects(info({ subscriptionId: GUID, resourceGroup: 'rg', [input]: value }), (e: ManagedIdentityError) => e.key === key);
        assert.equal(emu.requests.length, 0);
      });
    }

    it("refuses the instance metadata's subscription or group when it would change the URL, before any Resource Manager request", async () => {
      for (const compute of [
        { subscriptionId: `${GUID}/../x`, resourceGroupName: 'rg' },
        { subscriptionId: GUID, resourceGroupName: 'rg?x=1#' },
        { subscriptionId: '', resourceGroupName: 'rg' },
      ]) {
        emu.faults.script(IMDS_INSTANCE_ROUTE, { status: 200, body: { compute } });
        await assert.rejects(info({}), (e: ManagedIdentityError) => e.key === 'ScopeRequired' && !/[\r\n]/.test(e.message), JSON.stringify(compute));
      }
      assert.ok(emu.requests.every((r) => r.route === IMDS_INSTANCE_ROUTE), 'nothing but the instance metadata was asked');
    });

    it('refuses a vault resource ID whose subscription or group segment would change the URL', () => {
      const vaultPath = '/providers/Microsoft.KeyVault/vaults/kv-prod';
      for (const [sub, group] of [
        [`${GUID}?x=1`, 'rg'],
        ['..', 'rg'],
        [GUID, 'rg#frag'],
        [GUID, '..'],
        [GUID, 'rg%2f..'],
        [GUID, 'rg\\..'],
        [GUID, 'rg\tx'],
        [`attacker@${GUID}`, 'rg'],
      ]) {
        const id = `/subscriptions/${sub}/resourceGroups/${group}${vaultPath}`;
        assert.throws(() => parseVaultRefs(id), (e: ManagedIdentityError) => e.key === 'VaultNameInvalid', id);
      }
      assert.deepEqual(parseVaultRefs(`/subscriptions/${GUID}/resourceGroups/rg.x(1)${vaultPath}`), [{ name: 'kv-prod', id: `/subscriptions/${GUID}/resourceGroups/rg.x(1)${vaultPath}` }]);
    });
  });
});
