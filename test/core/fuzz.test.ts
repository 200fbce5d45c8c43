/**
 * Fuzz test of every parser of an answer from outside: the token responses of
 * each source, Entra ID's refusals, the Azure Arc challenge, expiry values,
 * JWT claims, Retry-After, Resource Manager (errors, pages, nextLink,
 * resources, permissions), Key Vault (vaults, the 401 challenge, refusals,
 * secret items), the instance metadata, Azure DevOps connection data and the
 * Azure CLI's output. Thousands of seeded random and mutated inputs per
 * parser; each must give a value of the promised type or a ManagedIdentityError
 * whose message is one line, bounded, and holds no part of the token planted
 * in the inputs: never a TypeError or RangeError, never a hang. Where the
 * parsing sits behind HTTP, a few dozen cases go over loopback (the emulator's
 * scripted faults, and a raw socket for broken HTTP).
 *
 * A failure names FUZZ_SEED and the case; FUZZ_SEED=<n> explores other inputs.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { validateHeaderValue } from 'node:http';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AzureEmulator, ARM_ROUTES, IMDS_INSTANCE_ROUTE, imdsEnv, KEYVAULT_ROUTES, worldOf } from '../../emulator';
import { aadstsCodes, entraRefusal } from '../../src/core/aadsts';
import { acquireToken, TokenResult } from '../../src/core/acquire';
import { parseAudience } from '../../src/core/audience';
import { armError, ArmClient } from '../../src/core/arm';
import { parseAzAccounts, parseAzVersion, parseLoginRecord } from '../../src/core/azcli';
import { CLOUDS } from '../../src/core/clouds';
import { evaluateConnectionData, evaluateResponse } from '../../src/core/devops';
import { isoFromEpochSeconds, parseExpiresIn, parseExpiresOn } from '../../src/core/expiry';
import type { HttpResponse } from '../../src/core/http';
import { SYSTEM_ASSIGNED } from '../../src/core/identity';
import { cloudOfEnvironment, parseInstance, readInstanceMetadata } from '../../src/core/instance';
import { claimLines, clientIdOf, decodeJwtClaims, describeClaims, jwtSecretSegments, redactJwts } from '../../src/core/jwt';
import {
  challengeResource,
  describeVault,
  findVault,
  keyVaultError,
  listSecretNames,
  parseChallenge,
  policyAllowsSecret,
  secretInfo,
  secretNameOf,
  VaultInfo,
} from '../../src/core/keyvault';
import { CHECKS, CheckName, check, listPermissions } from '../../src/core/permissions';
import { countByType, listResources, readResourceGroup, readSubscription } from '../../src/core/resources';
import { collectPages, jsonBody, pageOf, serviceError } from '../../src/core/rest';
import { parseRetryAfter } from '../../src/core/retry';
import { azureArcSource } from '../../src/core/sources/azure-arc';
import { sourceNamed } from '../../src/core/sources/select';
import { SOURCE_NAMES, SourceName, TokenRequestContext } from '../../src/core/sources/types';
import { tokenFacts } from '../../src/core/token-facts';
import { parseTokenResponse, refusal } from '../../src/core/token-response';
import {
  assertClearError,
  assertSafeText,
  fakeToken,
  fuzz,
  fuzzAsync,
  FuzzCase,
  fuzzBody,
  fuzzHeader,
  fuzzObject,
  fuzzTotals,
  mutateText,
  randomJson,
  randomString,
  rejected,
  Rng,
  seedOf,
  thrown,
} from '../helpers/fuzz';
import { emulatorArm } from '../helpers/info';
import { SOURCE_CASES, sourceOptions } from '../helpers/sources';
import { useEmulator } from '../helpers/emulator';

const TOKEN = fakeToken(new Rng(seedOf('token')));
const NOW = Date.UTC(2026, 0, 1);
const GUID = '11111111-2222-4333-8444-555555555555';
const ARM_RESOURCE = 'https://management.azure.com/';
const CASES = 2000;

const res = (status: number, body: string, headers: Record<string, string> = {}): HttpResponse => ({ status, headers, body });
const isStringOrUndefined = (v: unknown) => v === undefined || typeof v === 'string';
const validDate = (d: Date) => Number.isFinite(d.getTime()) && d.getTime() > 0;

/** Each source's token answer as documented, with the fake token in it. */
const TOKEN_ANSWERS: Record<SourceName, object> = {
  imds: {
    access_token: TOKEN.jwt,
    client_id: GUID,
    expires_in: '86399',
    expires_on: '1767225600',
    ext_expires_in: '86399',
    not_before: '1767139200',
    resource: ARM_RESOURCE,
    token_type: 'Bearer',
  },
  azureArc: { access_token: TOKEN.jwt, expires_in: '86399', expires_on: '1767225600', ext_expires_in: '86399', not_before: '1767139200', resource: ARM_RESOURCE, token_type: 'Bearer' },
  appService: { access_token: TOKEN.jwt, expires_on: '1767225600', resource: ARM_RESOURCE, token_type: 'Bearer', client_id: GUID },
  appServiceLegacy: { access_token: TOKEN.jwt, expires_on: '1/16/2030 5:24:12 AM +00:00', resource: ARM_RESOURCE, token_type: 'Bearer' },
  cloudShell: { access_token: TOKEN.jwt, refresh_token: '', expires_in: '3599', expires_on: '1767225600', not_before: '1767221700', resource: ARM_RESOURCE, token_type: 'Bearer' },
  serviceFabric: { token_type: 'Bearer', access_token: TOKEN.jwt, expires_on: 1767225600, resource: ARM_RESOURCE },
  workloadIdentity: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: TOKEN.jwt },
};

/** Refusals in each protocol's shape, some quoting the token (which a message must not repeat). */
const REFUSALS: object[] = [
  { error: 'invalid_request', error_description: 'Identity not found' },
  { error: 'invalid_resource', error_description: `AADSTS500011: The resource principal named x was not found. ${TOKEN.jwt}` },
  { statusCode: 400, message: 'Unable to load the proper Managed Identity.', correlationId: GUID },
  { error: { code: 'SecretHeaderNotFound', message: `Secret is not found in the request headers: ${TOKEN.jwt}` } },
  {
    error: 'invalid_client',
    error_description: `AADSTS700016: Application with identifier '${GUID}' was not found in the directory. Trace ID: ${GUID} Correlation ID: ${GUID} Timestamp: 2026-01-01 00:00:00Z`,
    error_codes: [700016],
    timestamp: '2026-01-01 00:00:00Z',
    trace_id: GUID,
    correlation_id: GUID,
  },
  { error: 'invalid_request', error_description: 'AADSTS700024: Client assertion is not within its valid time range.', error_codes: [700024, 50027] },
  { Message: 'An error has occurred.', access_token: TOKEN.jwt },
];

const ARM_ERRORS: object[] = [
  {
    error: {
      code: 'AuthorizationFailed',
      message: `The client '${GUID}' with object id '${GUID}' does not have authorization to perform action 'Microsoft.Resources/subscriptions/resourceGroups/read' over scope '/subscriptions/${GUID}/resourceGroups/rg' or the scope is invalid.`,
    },
  },
  { error: { code: 'InvalidAuthenticationTokenAudience', message: `The access token has been obtained for wrong audience or resource '${TOKEN.jwt}'.` } },
  { error: { code: 'ResourceGroupNotFound', message: "Resource group 'rg' could not be found." } },
  { error: { code: 'Forbidden', message: 'Caller is not authorized.', innererror: { code: 'ForbiddenByRbac' } } },
  { error: { code: 'Forbidden', message: 'Client address is not authorized. Client address: 203.0.113.7', innererror: { code: 'ForbiddenByFirewall' } } },
  { error: 'unauthorized', message: 'no' },
];

describe('fuzz: every parser of an answer', function () {
  this.timeout(60_000);
  after(() => {
    const { cases, parsers } = fuzzTotals();
    console.log(`  fuzz: ${cases} cases over ${parsers} parsers`);
  });

  describe('token responses', () => {
    for (const name of SOURCE_NAMES) {
      it(`${name}: a token with a readable expiry, or badResponse`, () => {
        const label = sourceNamed(name).label;
        fuzz(`token ${name}`, CASES, (c) => {
          const body = (c.input = fuzzBody(c.rng, [TOKEN_ANSWERS[name]], TOKEN));
          let token: ReturnType<typeof parseTokenResponse> | undefined;
          const e = thrown(() => (token = parseTokenResponse(label, res(200, body), NOW)));
          if (e !== undefined) {
            assertClearError(e, TOKEN);
            assert.equal(e.kind, 'badResponse');
            return;
          }
          assert.ok(token && typeof token.token === 'string' && token.token.length > 0);
          assert.ok(validDate(token.expiresOn), `expiresOn ${token.expiresOn.getTime()}`);
          assert.ok(isStringOrUndefined(token.resource) && isStringOrUndefined(token.clientId));
        });
      });
    }

    it('refusals of every source: advice, never the token', () => {
      fuzz('refusal', CASES, (c) => {
        const status = c.rng.pick([400, 401, 403, 404, 410, 429, 500, 503]);
        const body = (c.input = fuzzBody(c.rng, [...REFUSALS, ...Object.values(TOKEN_ANSWERS)], TOKEN));
        const e = refusal(sourceNamed(c.rng.pick(SOURCE_NAMES)).label, res(status, body), ARM_RESOURCE);
        assertClearError(e, TOKEN);
        assert.equal(e.kind, 'refused');
      });
    });

    it("workload identity: Entra ID's AADSTS refusals", () => {
      fuzz('aadsts', CASES, (c) => {
        const r = res(c.rng.pick([400, 401, 500]), (c.input = fuzzBody(c.rng, REFUSALS, TOKEN)));
        const codes = aadstsCodes(r);
        assert.ok(Array.isArray(codes) && codes.every((n) => typeof n === 'number'));
        const e = entraRefusal('Microsoft Entra ID', r, ARM_RESOURCE, GUID, 'contoso.onmicrosoft.com');
        if (e !== undefined) assertClearError(e, TOKEN);
      });
    });

    it("Azure Arc: the 401 challenge's realm is read only when it is the key file in the token folder", () => {
      const folder = mkdtempSync(join(tmpdir(), 'fuzz-arc-'));
      const keyFile = join(folder, 'fuzz.key');
      const key = new Rng(seedOf('arc key')).b64url(64);
      writeFileSync(keyFile, key, { mode: 0o600 });
      const ctx: TokenRequestContext = { env: {}, identity: SYSTEM_ASSIGNED, hooks: { arcTokenFolder: folder }, resource: ARM_RESOURCE, cloud: CLOUDS.AzureCloud };
      const sent = { url: 'http://127.0.0.1:40342/metadata/identity/oauth2/token', method: 'GET' as const, headers: { Metadata: 'true' } };
      const seeds = [
        `Basic realm=${keyFile}`,
        `Basic realm="${keyFile}"`,
        `basic   realm=${keyFile}  `,
        `Basic realm=${folder}/../fuzz.key`,
        `Basic realm=${folder}/other.key`,
        `Basic realm=${folder}`,
        `Basic realm=${folder}/fuzz.key/`,
        'Basic realm=/etc/passwd',
        'Basic realm=relative.key',
        `Bearer realm=${keyFile}`,
        `Basic realm=${keyFile}\u0000.txt`,
        `Basic realm=${keyFile}, charset="UTF-8"`,
      ];
      fuzz('arc challenge', CASES, (c) => {
        const status = c.rng.chance(0.85) ? 401 : c.rng.pick([200, 400, 404, 500]);
        const header = c.rng.chance(0.05) ? undefined : fuzzHeader(c.rng, seeds, TOKEN);
        c.input = { status, header };
        let answer: ReturnType<NonNullable<typeof azureArcSource.challenge>>;
        const e = thrown(() => (answer = azureArcSource.challenge!(res(status, '', header === undefined ? {} : { 'www-authenticate': header }), sent, ctx)));
        if (e !== undefined) return assertClearError(e, TOKEN);
        if (status !== 401) return assert.equal(answer, undefined);
        assert.ok(answer, 'a 401 is answered or refused');
        assert.equal(answer.headers?.Authorization, `Basic ${key}`, 'only the key file itself is sent');
        assert.equal(answer.url, sent.url);
      });
    });
  });

  it('expiry values: a date after 1970, or nothing', () => {
    const seeds = ['1767225600', 1767225600, '1/16/2030 5:24:12 AM +00:00', '06/20/2030 02:57:58 +00:00', '3599', 3599];
    fuzz('expiry', CASES * 2, (c) => {
      const seed = c.rng.pick(seeds);
      const value = (c.input = c.rng.chance(0.4)
        ? mutateText(String(seed), c.rng, TOKEN).slice(0, 200)
        : c.rng.chance(0.5)
          ? randomString(c.rng, TOKEN)
          : randomJson(c.rng, TOKEN, 1));
      const on = parseExpiresOn(value);
      if (on !== undefined) assert.ok(validDate(on), `expires_on ${String(value).slice(0, 50)} → ${on.getTime()}`);
      const inn = parseExpiresIn(value, NOW);
      if (inn !== undefined) assert.ok(validDate(inn) && inn.getTime() >= NOW - 1000, `expires_in → ${inn.getTime()}`);
      const iso = isoFromEpochSeconds(value);
      if (iso !== undefined) assert.equal(new Date(iso).toISOString(), iso);
    });
  });

  it('JWT claims: an object or nothing, shown as text; a token never survives redaction', () => {
    const claims = JSON.parse(Buffer.from(TOKEN.payload, 'base64url').toString('utf8')) as object;
    const [header] = TOKEN.jwt.split('.');
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    fuzz('jwt', CASES, (c) => {
      const roll = c.rng.next();
      const token = (c.input =
        roll < 0.6
          ? `${header}.${b64(fuzzBody(c.rng, [claims, { aud: 1, tid: {}, oid: [], appid: null, azp: 'x', exp: 'soon', xms_mirid: { toString: 1 } }], TOKEN))}.${TOKEN.signature}`
          : roll < 0.85
            ? mutateText(TOKEN.jwt, c.rng, TOKEN)
            : randomString(c.rng, TOKEN));
      const decoded = decodeJwtClaims(token);
      if (decoded !== undefined) {
        assert.ok(decoded !== null && typeof decoded === 'object' && !Array.isArray(decoded));
        for (const [k, v] of describeClaims(decoded)) assert.ok(typeof k === 'string' && typeof v === 'string');
        assert.ok(claimLines(decoded).every((l) => typeof l === 'string'));
        assert.ok(isStringOrUndefined(clientIdOf(decoded)));
        const result = { token, expiresOn: new Date(NOW), claims: decoded, requestedResource: ARM_RESOURCE } as TokenResult;
        const facts = tokenFacts(result);
        assert.ok(typeof facts.audience === 'string' && isStringOrUndefined(facts.tenantId) && isStringOrUndefined(facts.clientId) && isStringOrUndefined(facts.objectId));
      }
      assert.ok(jwtSecretSegments(token).every((s) => typeof s === 'string'));
      assert.ok(!redactJwts(`x ${TOKEN.jwt} ${token}`).includes(TOKEN.jwt));
    });
  });

  it('Retry-After: a wait in milliseconds (finite, not negative), or nothing', () => {
    const seeds = ['0', '1', '120', 'Wed, 21 Oct 2015 07:28:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT', '86400'];
    fuzz('retry-after', CASES, (c) => {
      const value = (c.input = c.rng.chance(0.1) ? undefined : fuzzHeader(c.rng, seeds, TOKEN));
      const ms = parseRetryAfter(value, NOW);
      if (ms !== undefined) assert.ok(Number.isFinite(ms) && ms >= 0, `${String(value).slice(0, 40)} → ${ms}`);
    });
  });

  describe('Azure Resource Manager', () => {
    const path = `/subscriptions/${GUID}/resourceGroups/rg/resources`;
    const page = { value: [{ id: `/subscriptions/${GUID}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st`, name: 'st', type: 'Microsoft.Storage/storageAccounts', location: 'westeurope' }], nextLink: `https://management.azure.com${path}?api-version=2021-04-01&%24skiptoken=abc` };

    it('error bodies: advice, never the token', () => {
      fuzz('arm error', CASES, (c) => {
        const r = res(c.rng.pick([400, 401, 403, 404, 409, 429, 500]), (c.input = fuzzBody(c.rng, ARM_ERRORS, TOKEN)));
        const { code, message, innerCode } = serviceError(r);
        assert.ok(typeof code === 'string' && typeof message === 'string' && isStringOrUndefined(innerCode));
        assertSafeText(code, TOKEN, 'the code');
        assertSafeText(message, TOKEN, 'the message');
        const e = armError(r, path, { objectId: GUID, audience: ARM_RESOURCE }, 'https://management.azure.com/');
        assertClearError(e, TOKEN);
      });
    });

    it('pages: a JSON object with a list, or badResponse', () => {
      fuzz('arm page', CASES, (c) => {
        const r = res(200, (c.input = fuzzBody(c.rng, [page], TOKEN)));
        let json: ReturnType<typeof jsonBody> | undefined;
        const e = thrown(() => (json = jsonBody(r, 'Azure Resource Manager', `https://management.azure.com${path}`)));
        if (e !== undefined) return assertClearError(e, TOKEN);
        const p = pageOf(json!);
        assert.ok(Array.isArray(p.value) && isStringOrUndefined(p.nextLink));
      });
    });

    it('nextLink: followed on the same host, else a clear error', async () => {
      const first = `https://management.azure.com${path}?api-version=2021-04-01`;
      await fuzzAsync('nextLink', CASES / 2, async (c) => {
        const links: unknown[] = [];
        let n = 0;
        const fetchPage = async () => {
          const link = c.rng.chance(0.6) ? `${first}&%24skiptoken=${n++}` : c.rng.chance(0.5) ? mutateText(page.nextLink, c.rng, TOKEN) : randomJson(c.rng, TOKEN, 1);
          links.push(link);
          return pageOf({ value: [n], nextLink: link });
        };
        c.input = links;
        const e = await rejected(collectPages(first, 'Azure Resource Manager', 5, fetchPage));
        if (e !== undefined) assertClearError(e, TOKEN);
      });
    });

    const fakeArm = (get: () => unknown, list: () => unknown[]): ArmClient => ({
      endpoint: 'https://management.azure.com/',
      get: async <T>() => get() as T,
      list: async <T>() => list() as T[],
    });
    const fuzzList = (rng: Rng, seeds: object[]): unknown[] => {
      const json = fuzzObject(rng, [{ value: seeds }], TOKEN);
      return pageOf(json ?? {}).value;
    };

    it('subscription, resource group and resources: text fields are text', async () => {
      const sub = { id: `/subscriptions/${GUID}`, subscriptionId: GUID, displayName: 'Contoso', state: 'Enabled', tenantId: GUID };
      const group = { id: `/subscriptions/${GUID}/resourceGroups/rg`, name: 'rg', location: 'westeurope', properties: { provisioningState: 'Succeeded' } };
      await fuzzAsync('resources', CASES, async (c) => {
        const inputs = { sub: fuzzObject(c.rng, [sub], TOKEN) ?? {}, group: fuzzObject(c.rng, [group], TOKEN) ?? {}, list: fuzzList(c.rng, page.value) };
        c.input = inputs;
        const s = await readSubscription(fakeArm(() => inputs.sub, () => []), GUID);
        for (const v of Object.values(s)) assert.equal(typeof v, 'string');
        const g = await readResourceGroup(fakeArm(() => inputs.group, () => []), GUID, 'rg');
        for (const v of Object.values(g)) assert.equal(typeof v, 'string');
        const resources = await listResources(fakeArm(() => ({}), () => inputs.list), GUID, 'rg');
        for (const r of resources) for (const v of Object.values(r)) assert.equal(typeof v, 'string');
        for (const [type, count] of countByType(resources)) assert.ok(typeof type === 'string' && Number.isInteger(count));
      });
    });

    it('permissions: yes, no or conditional, whatever the patterns', async () => {
      const entry = { actions: ['*/read', 'Microsoft.KeyVault/vaults/*'], notActions: ['Microsoft.Authorization/*/Delete'], dataActions: ['Microsoft.KeyVault/vaults/secrets/*'], notDataActions: [], condition: null };
      // Patterns that make a regular expression with one .* per * backtrack: sized so that such a matcher takes seconds (caught as a hang), not forever.
      const nasty = { actions: [`${'*'.repeat(8)}!`, `${'*a'.repeat(40)}!`], notActions: [], dataActions: [`${'*'.repeat(8)}!`], notDataActions: [] };
      await fuzzAsync('permissions', CASES, async (c) => {
        const entries = (c.input = fuzzList(c.rng, [entry, nasty]));
        const listed = await listPermissions(fakeArm(() => ({}), () => entries), `/subscriptions/${GUID}`);
        for (const name of Object.keys(CHECKS) as CheckName[]) assert.ok(['yes', 'no', 'conditional'].includes(check(listed, name)));
      });
    });
  });

  describe('Key Vault', () => {
    const vault = {
      id: `/subscriptions/${GUID}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-prod`,
      name: 'kv-prod',
      location: 'westeurope',
      properties: {
        tenantId: GUID,
        sku: { family: 'A', name: 'standard' },
        accessPolicies: [{ tenantId: GUID, objectId: GUID, permissions: { secrets: ['Get', 'List'], keys: [], certificates: [] } }],
        vaultUri: 'https://kv-prod.vault.azure.net/',
        enableSoftDelete: true,
        softDeleteRetentionInDays: 90,
        enableRbacAuthorization: false,
        enablePurgeProtection: true,
        networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices', ipRules: [{ value: '203.0.113.0/24' }], virtualNetworkRules: [] },
        privateEndpointConnections: [{ id: `/x/privateEndpointConnections/pe1`, properties: { provisioningState: 'Succeeded', privateLinkServiceConnectionState: { status: 'Approved' } } }],
        publicNetworkAccess: 'Enabled',
      },
    };
    const info = describeVault(vault, GUID);
    const TYPES: Record<keyof VaultInfo, string> = {
      id: 'string',
      name: 'string',
      resourceGroup: 'string',
      location: 'string',
      vaultUri: 'string',
      sku: 'string',
      tenantId: 'string',
      softDelete: 'boolean',
      softDeleteRetentionDays: 'number',
      purgeProtection: 'boolean',
      authorization: 'string',
      accessPolicy: 'object',
      accessPolicyCount: 'number',
      publicNetworkAccess: 'string',
      networkDefaultAction: 'string',
      networkBypass: 'string',
      ipRules: 'number',
      virtualNetworkRules: 'number',
      privateEndpoints: 'object',
    };

    it("a vault's configuration: every field of its type", async () => {
      await fuzzAsync('vault', CASES, async (c) => {
        const v = (c.input = fuzzObject(c.rng, [vault], TOKEN) ?? {});
        const e = await rejected(
          (async () => {
            const found = c.rng.chance(0.5) ? await findVault({ get: async () => v, list: async () => [v, null, 1] } as unknown as ArmClient, GUID, { name: 'kv-prod' }) : v;
            const d = describeVault(found as typeof vault, GUID);
            for (const [k, t] of Object.entries(TYPES)) {
              const value = d[k as keyof VaultInfo];
              if (!(k === 'accessPolicy' && value === undefined)) assert.equal(typeof value, t, `${k}: ${JSON.stringify(value)?.slice(0, 80)}`);
            }
            for (const list of [d.accessPolicy?.secrets ?? [], d.accessPolicy?.keys ?? [], d.accessPolicy?.certificates ?? []]) assert.ok(list.every((x) => typeof x === 'string'));
            assert.ok(d.privateEndpoints.every((p) => typeof p.name === 'string' && typeof p.status === 'string' && typeof p.provisioningState === 'string'));
            assert.equal(typeof policyAllowsSecret(d, 'list'), 'boolean');
          })(),
        );
        if (e !== undefined) assertClearError(e, TOKEN);
      });
    });

    it("the 401 challenge: a resource under the vault's domain, nothing, or a refusal", () => {
      const seeds = [
        'Bearer authorization="https://login.microsoftonline.com/aaaabbbb-0000-cccc-1111-dddd2222eeee", resource="https://vault.azure.net"',
        'Bearer authorization="https://login.windows.net/t", scope="https://vault.azure.net/.default"',
        'Bearer authorization_uri="https://login.windows.net/t", resource="https://management.azure.com"',
        'Bearer error="invalid_token"',
        'Basic realm="x"',
      ];
      fuzz('keyvault challenge', CASES, (c) => {
        const header = (c.input = c.rng.chance(0.05) ? undefined : fuzzHeader(c.rng, seeds, TOKEN));
        const parsed = parseChallenge(header);
        if (parsed) assert.ok(isStringOrUndefined(parsed.authorization) && isStringOrUndefined(parsed.resource) && isStringOrUndefined(parsed.scope));
        let asked: string | undefined;
        const e = thrown(() => (asked = challengeResource(info, header)));
        if (e !== undefined) return assertClearError(e, TOKEN);
        if (asked !== undefined) assert.ok(new URL(info.vaultUri).hostname.endsWith(`.${new URL(asked).hostname}`), asked);
      });
    });

    it('refusals: advice, never the token', () => {
      fuzz('keyvault error', CASES, (c) => {
        const headers: Record<string, string> = c.rng.chance(0.5) ? { 'www-authenticate': fuzzHeader(c.rng, ['Bearer authorization="https://login.windows.net/t", resource="https://vault.azure.net"'], TOKEN) } : {};
        const r = res(c.rng.pick([401, 403, 404, 409, 500]), fuzzBody(c.rng, ARM_ERRORS, TOKEN), headers);
        c.input = r;
        assertClearError(keyVaultError(r, info, { objectId: GUID, tenantId: GUID, resource: 'https://vault.azure.net' }), TOKEN);
      });
    });

    it('secret items: a name and attributes of their types, never a value', () => {
      const item = { id: 'https://kv-prod.vault.azure.net/secrets/db-password', contentType: 'text/plain', attributes: { enabled: true, created: 1700000000, updated: 1700000000, exp: 1800000000, nbf: 1600000000, recoveryLevel: 'Recoverable+Purgeable' }, managed: true };
      fuzz('secret item', CASES, (c) => {
        const parsed = (c.input = fuzzObject(c.rng, [item], TOKEN) ?? randomJson(c.rng, TOKEN, 1));
        const s = secretInfo(parsed as Parameters<typeof secretInfo>[0]);
        assert.equal(typeof s.name, 'string');
        for (const k of ['contentType', 'created', 'updated', 'expires', 'notBefore'] as const) assert.ok(isStringOrUndefined(s[k]), k);
        assert.ok(s.enabled === undefined || typeof s.enabled === 'boolean');
        assert.ok(s.managed === undefined || s.managed === true);
        assert.equal(typeof secretNameOf(typeof parsed === 'string' ? parsed : undefined), 'string');
      });
    });
  });

  it('instance metadata: every field of its type', () => {
    const instance = {
      compute: {
        azEnvironment: 'AzurePublicCloud',
        location: 'westeurope',
        name: 'agent-vm',
        offer: 'ubuntu-24_04-lts',
        osType: 'Linux',
        publisher: 'canonical',
        resourceGroupName: 'rg',
        resourceId: `/subscriptions/${GUID}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/agent-vm`,
        sku: 'server',
        subscriptionId: GUID,
        tagsList: [{ name: 'team', value: 'build' }],
        version: '24.04.202501010',
        vmId: GUID,
        vmScaleSetName: '',
        vmSize: 'Standard_D2s_v5',
        zone: '1',
      },
      network: { interface: [{ ipv4: { ipAddress: [{ privateIpAddress: '10.0.0.4', publicIpAddress: '' }] }, ipv6: { ipAddress: [] } }] },
    };
    fuzz('instance', CASES, (c) => {
      const json = (c.input = fuzzObject(c.rng, [instance], TOKEN) ?? {});
      const i = parseInstance(json);
      for (const k of ['name', 'resourceId', 'vmId', 'subscriptionId', 'resourceGroup', 'location', 'vmSize', 'osType'] as const) assert.equal(typeof i[k], 'string', k);
      for (const k of ['image', 'scaleSet', 'zone', 'azEnvironment'] as const) assert.ok(isStringOrUndefined(i[k]), k);
      assert.ok(i.tags.every((t) => typeof t.name === 'string' && typeof t.value === 'string'));
      assert.ok(i.privateIps.every((ip) => typeof ip === 'string'));
      cloudOfEnvironment(i.azEnvironment ?? '');
    });
  });

  it('Azure DevOps connection data: who, or a problem with a short one-line detail', () => {
    const data = { authenticatedUser: { id: GUID, descriptor: 'Microsoft.TeamFoundation.ServiceIdentity;x', providerDisplayName: 'agent-mi', customDisplayName: 'Agent', isActive: true }, instanceId: GUID, locationServiceData: {} };
    const failure = { $id: '1', innerException: null, message: `TF400813: The user '${GUID}' is not authorized to access this resource. ${TOKEN.jwt}`, typeName: 'x', typeKey: 'UnauthorizedRequestException', errorCode: 0, eventId: 3000 };
    fuzz('devops', CASES, (c) => {
      const body = (c.input = fuzzBody(c.rng, [data, failure], TOKEN));
      const status = c.rng.pick([200, 200, 203, 401, 403, 404, 500]);
      for (const result of [evaluateResponse(status, c.rng.pick(['application/json', 'text/html', '']), body), evaluateConnectionData(fuzzObject(c.rng, [data], TOKEN))]) {
        if (result.ok) assert.ok(typeof result.identity.id === 'string' && typeof result.identity.displayName === 'string');
        else {
          assertSafeText(result.detail, TOKEN, 'the detail');
          assert.ok(result.detail.length <= 300 && result.codes.every((x) => typeof x === 'string'));
        }
      }
    });
  });

  it("the Azure CLI's output and the login record: values of their types, or nothing", () => {
    const version = { 'azure-cli': '2.70.0', 'azure-cli-core': '2.70.0', extensions: {} };
    const accounts = [{ cloudName: 'AzureCloud', id: GUID, isDefault: true, name: 'Contoso', state: 'Enabled', tenantId: GUID, user: { name: 'systemAssignedIdentity', type: 'servicePrincipal' } }];
    const record = { configDir: '/tmp/agent/azure-cli-mi-abc', createdConfigDir: true, user: 'systemAssignedIdentity', timeoutSeconds: 120 };
    fuzz('azure cli', CASES, (c) => {
      const inputs = { version: fuzzBody(c.rng, [version], TOKEN), accounts: fuzzBody(c.rng, [accounts], TOKEN), record: fuzzBody(c.rng, [record], TOKEN) };
      c.input = inputs;
      assert.ok(isStringOrUndefined(parseAzVersion(inputs.version)));
      for (const a of parseAzAccounts(inputs.accounts)) assert.ok(typeof a.id === 'string' && typeof a.name === 'string' && typeof a.tenantId === 'string' && typeof a.isDefault === 'boolean');
      const r = parseLoginRecord(inputs.record);
      if (r) assert.ok(typeof r.configDir === 'string' && typeof r.createdConfigDir === 'boolean' && typeof r.user === 'string');
    });
  });

  describe('over loopback HTTP', () => {
    let emu: AzureEmulator;
    useEmulator({ userAssigned: ['id-a'], systemAssigned: true, extraResources: ['https://vault.azure.net'] }, (e) => {
      emu = e;
    }, { once: true });
    afterEach(() => emu.faults.clear());

    const QUICK = { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2, goneWindowMs: 0 };
    /** Cases over loopback: each is bounded by its timeoutSeconds (at most 10 s), so one that runs past 15 s hangs. */
    const fuzzOverHttp = (name: string, count: number, check: (c: FuzzCase) => Promise<void>) => fuzzAsync(name, count, check, 15_000);
    /** A header the HTTP server can send (valid characters), else none. */
    const sendable = (name: string, value: string): Record<string, string> => {
      try {
        validateHeaderValue(name, value);
        return { [name]: value };
      } catch {
        return {};
      }
    };
    const routeOf = (name: SourceName): string => SOURCE_CASES.find((sc) => sc.name === name)!.route;

    for (const name of SOURCE_NAMES) {
      it(`${name}: answers and challenges from the endpoint, end to end`, async () => {
        await fuzzOverHttp(`http ${name}`, 12, async (c) => {
          const status = c.rng.pick([200, 200, 200, 400, 401, 403, 404, 410, 500]);
          const body = fuzzBody(c.rng, [TOKEN_ANSWERS[name], ...REFUSALS], TOKEN);
          const headers = { ...sendable('WWW-Authenticate', fuzzHeader(c.rng, ['Basic realm=/var/opt/azcmagent/tokens/x.key'], TOKEN)), ...sendable('Retry-After', c.rng.pick(['0', '1', 'x'])) };
          c.input = { status, headers, body };
          emu.faults.script(routeOf(name), { status, headers, body: body || ' ' }, 2);
          const e = await rejected(acquireToken(sourceOptions(emu, name, { retryPolicy: QUICK, timeoutSeconds: 10 })));
          if (e !== undefined) assertClearError(e, TOKEN);
        });
      });
    }

    it('Resource Manager lists, Key Vault secret lists and the instance metadata, end to end', async () => {
      const arm = await emulatorArm(emu, { retryPolicy: QUICK, timeoutSeconds: 10 });
      const sub = emu.machine.subscriptionId;
      const rg = emu.machine.resourceGroup;
      const vaultName = worldOf(emu).vaults[0].name;
      const info = describeVault(await findVault(arm, sub, { name: vaultName }), emu.machine.systemAssigned?.objectId);
      const kvToken = (await acquireToken({ audience: parseAudience('https://vault.azure.net'), env: imdsEnv(emu) })).token;
      await fuzzOverHttp('http rest', 36, async (c) => {
        const which = c.rng.pick(['arm', 'keyvault', 'instance'] as const);
        const status = c.rng.pick([200, 200, 200, 401, 403, 404, 429, 500]);
        const body = fuzzBody(c.rng, which === 'instance' ? [{ compute: { name: 'vm' } }] : [{ value: [{ id: 'https://x/secrets/a', name: 'a' }], nextLink: null }, ...ARM_ERRORS], TOKEN);
        const headers = { ...sendable('WWW-Authenticate', fuzzHeader(c.rng, ['Bearer authorization="https://login.windows.net/t", resource="https://vault.azure.net"'], TOKEN)), 'Retry-After': '0' };
        c.input = { which, status, headers, body };
        const route = which === 'arm' ? ARM_ROUTES.resources : which === 'keyvault' ? KEYVAULT_ROUTES.secrets : IMDS_INSTANCE_ROUTE;
        emu.faults.script(route, { status, headers, body: body || ' ' }, 2);
        const work =
          which === 'arm'
            ? listResources(arm, sub, rg)
            : which === 'keyvault'
              ? listSecretNames(info, { resource: 'https://vault.azure.net', tokenFor: async () => kvToken, retryPolicy: QUICK, timeoutSeconds: 10 })
              : readInstanceMetadata({ env: imdsEnv(emu), retryPolicy: QUICK, timeoutSeconds: 10 });
        const e = await rejected(work);
        if (e !== undefined) assertClearError(e, TOKEN);
      });
    });

    describe('broken HTTP from a raw socket', () => {
      let server: Server;
      let reply: Buffer = Buffer.alloc(0);
      let url = '';
      before(async () => {
        server = createServer((s: Socket) => {
          s.on('error', () => undefined);
          s.once('data', () => s.end(reply));
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const address = server.address();
        url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      });
      after(() => new Promise<void>((resolve) => server.close(() => resolve())));

      const answers = (rng: Rng): Buffer => {
        const json = JSON.stringify(TOKEN_ANSWERS.imds);
        switch (rng.int(7)) {
          case 0:
            return rng.bytes(rng.int(200));
          case 1:
            return Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${json.length + 50}\r\n\r\n${json}`);
          case 2:
            return Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${json}\r\n`);
          case 3:
            return Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nX-A: '), rng.bytes(20), Buffer.from(`\r\nContent-Length: ${json.length}\r\n\r\n${json}`)]);
          case 4:
            return Buffer.from(`HTTP/1.1 ${rng.pick(['999', '2', 'abc', '200'])} ${TOKEN.jwt}\r\nContent-Length: 0\r\n\r\n`);
          case 5:
            return Buffer.from(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70_000)}\r\nContent-Length: 2\r\n\r\n{}`);
          default:
            return Buffer.from(mutateText(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json}`, rng, TOKEN), 'latin1');
        }
      };

      it('a token endpoint and the instance metadata that speak broken HTTP fail with advice', async () => {
        await fuzzOverHttp('raw http', 30, async (c) => {
          reply = answers(c.rng);
          c.input = reply.toString('latin1').slice(0, 300);
          const env = { AZURE_POD_IDENTITY_AUTHORITY_HOST: url };
          const token = await rejected(acquireToken({ audience: parseAudience('AzureResourceManager'), env, identitySource: 'imds', retryPolicy: QUICK, timeoutSeconds: 5, requestTimeoutMs: 2000 }));
          if (token !== undefined) assertClearError(token, TOKEN);
          const instance = await rejected(readInstanceMetadata({ env, retryPolicy: QUICK, timeoutSeconds: 5, requestTimeoutMs: 2000 }));
          if (instance !== undefined) assertClearError(instance, TOKEN);
        });
      });
    });
  });
});

/** What the fuzzer found, each pinned by one small case (a regression takes seconds or throws, and fails here by name). */
describe('fuzz findings, pinned', function () {
  // A quadratic or exponential matcher takes many seconds on these inputs; mocha fails a test that overruns its timeout.
  this.timeout(5000);
  const parse = (body: string) => thrown(() => parseTokenResponse('IMDS', res(200, body), NOW));

  it('redacts a megabyte of "eyJeyJ…" at once (the search restarted at every "eyJ": minutes)', () => {
    const body = JSON.stringify({ error: 'x', error_description: 'eyJ'.repeat(350_000) });
    assert.equal(refusal('IMDS', res(400, body), ARM_RESOURCE).key, 'EndpointRefused');
    assert.equal(redactJwts(`${'eyJ'.repeat(100_000)} ${TOKEN.jwt}`).endsWith(' <token removed>'), true);
  });

  it('matches permission patterns with many wildcards at once (a .* per * backtracked exponentially)', () => {
    assert.equal(check([{ actions: [`${'*'.repeat(8)}!`], dataActions: [`${'*'.repeat(8)}!`] }], 'readResourceGroup'), 'no');
  });

  it("parses a Key Vault challenge of long words at once (each letter restarted the parameter search)", () => {
    assert.equal(parseChallenge(`Bearer ${'a'.repeat(300_000)}`)?.resource, undefined);
  });

  it('removes a token with more than three segments, or without its header, from messages', () => {
    for (const text of [`x ${TOKEN.jwt}.${TOKEN.signature}`, `x ${TOKEN.payload}.${TOKEN.signature}`, `x ${TOKEN.jwt.replace('eyJ', 'eyK')}`]) {
      const e = refusal('IMDS', res(400, JSON.stringify({ error: 'invalid_request', error_description: text })), ARM_RESOURCE);
      assertClearError(e, TOKEN);
    }
  });

  it("shows an expiry that is an object by its kind (String() threw on a 'toString' that is not a function)", () => {
    const e = parse(JSON.stringify({ access_token: 'x', expires_on: { toString: 1, valueOf: 1 } }));
    assertClearError(e, TOKEN);
    assert.equal(e.key, 'ResponseBadExpiry');
    assert.match(e.message, /'an object'/);
  });

  it('names the fields of a token-less answer on one line, cut short, without a token in a field name', () => {
    const e = parse(JSON.stringify({ [`a\n##vso[task.setvariable variable=x]y`]: 1, [TOKEN.jwt]: 2, ['b'.repeat(100_000)]: 3 }));
    assertClearError(e, TOKEN);
    assert.equal(e.key, 'ResponseNoToken');
  });

  it('reads no expiry at or before 1970: 5e-324 seconds, or a year Date.UTC takes for 1930', () => {
    for (const value of [5e-324, '0.0001', '1/16/0030 5:24:12 AM +00:00', '01/01/1969 00:00:00']) assert.equal(parseExpiresOn(value), undefined, String(value));
    assert.equal(parseExpiresOn('1/16/2030 5:24:12 AM +00:00')?.toISOString(), '2030-01-16T05:24:12.000Z');
  });

  it('reads a Retry-After of more digits than a number holds as none (it was Infinity)', () => {
    assert.equal(parseRetryAfter('9'.repeat(400), NOW), undefined);
  });

  it('stops a list at a nextLink that is not a URL, or on a long host, with a short message (new URL threw a TypeError)', async () => {
    const first = 'https://management.azure.com/x';
    for (const [link, key] of [['http://[::1', 'NextLinkInvalid'], [`https://${'a'.repeat(100_000)}.example/`, 'NextLinkOtherHost']] as const) {
      const e = await rejected(collectPages(first, 'Azure Resource Manager', 5, async () => ({ value: [], nextLink: link })));
      assertClearError(e, TOKEN);
      assert.equal(e.key, key);
    }
  });

  it('reads resources, permissions, vaults and secret items of the wrong shape as absent, not as a TypeError', async () => {
    const arm = (items: unknown[]): ArmClient => ({ endpoint: 'https://management.azure.com/', get: async <T>() => ({ name: 5 }) as T, list: async <T>() => items as T[] });
    const resources = await listResources(arm([null, { name: 'st', type: 7 }, 'x']), GUID, 'rg');
    assert.deepEqual(countByType(resources), [['', 3]]);
    assert.equal((await readResourceGroup(arm([]), GUID, 'rg')).name, 'rg');
    const permissions = await listPermissions(arm([null, { actions: '*', notActions: [1, null] }, { actions: ['*'], condition: { x: 1 } }]), `/subscriptions/${GUID}`);
    assert.equal(check(permissions, 'readResourceGroup'), 'yes');
    const vault = describeVault({ id: 1, name: 'kv', properties: { vaultUri: 5, accessPolicies: { objectId: GUID }, privateEndpointConnections: 'x', networkAcls: { ipRules: 3 } } } as never, GUID);
    assert.deepEqual([vault.id, vault.vaultUri, vault.accessPolicyCount, vault.ipRules, vault.privateEndpoints], ['', 'https://kv.vault.azure.net/', 0, 0, []]);
    assert.deepEqual(secretInfo({ id: 5, attributes: { enabled: 'yes' }, managed: 'no' }), secretInfo({}));
    assert.equal((await findVault(arm([null, 1, { name: 'kv' }]), GUID, { name: 'KV' })).name, 'kv');
  });

  it('refuses a vaultUri that is not a URL before a token is asked for (new URL threw a TypeError)', async () => {
    let asked = 0;
    const vault = { ...describeVault({ id: '/x', name: 'kv' }, GUID), vaultUri: 'not a url/' };
    const e = await rejected(listSecretNames(vault, { resource: 'https://vault.azure.net', tokenFor: async () => (asked++, 'token') }));
    assertClearError(e, TOKEN);
    assert.equal(e.key, 'BearerNotHttps');
    assert.equal(asked, 0);
  });

  it('shows codes, challenge values and Arc realms from an answer on one line, cut short, without a token', () => {
    const vault = describeVault({ id: '/x', name: 'kv', properties: { vaultUri: 'https://kv.vault.azure.net/' } }, GUID);
    const longCode = JSON.stringify({ error: { code: `A\u0001${'b'.repeat(100_000)}`, message: 'm' } });
    assertClearError(keyVaultError(res(401, longCode, { 'www-authenticate': `Bearer authorization="https://login\u0001${TOKEN.jwt}${'x'.repeat(20_000)}"` }), vault, {}), TOKEN);
    assertClearError(thrown(() => challengeResource(vault, `Bearer resource="https://evil\u0001.example/${TOKEN.jwt}"`)), TOKEN);
    assertSafeText(serviceError(res(400, longCode)).code, TOKEN, 'the code');
    const ctx: TokenRequestContext = { env: {}, identity: SYSTEM_ASSIGNED, hooks: { arcTokenFolder: tmpdir() }, resource: ARM_RESOURCE, cloud: CLOUDS.AzureCloud };
    const e = thrown(() => azureArcSource.challenge!(res(401, '', { 'www-authenticate': `Basic realm=/etc/${TOKEN.jwt}\u0001${'k'.repeat(20_000)}.key` }), { url: 'http://127.0.0.1/' }, ctx));
    assertClearError(e, TOKEN);
    assert.equal(e.key, 'ArcKeyFileRefused');
  });

  it("reads an az account name that is not text as none, and a login record of 'null' as none (both threw)", () => {
    assert.equal(parseAzAccounts(JSON.stringify([{ id: GUID, name: { toString: 1 }, tenantId: GUID }]))[0].name, '');
    assert.equal(parseLoginRecord('null'), undefined);
  });
});
