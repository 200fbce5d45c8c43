/** The Resource Manager client against the emulator: paging, retries, every mapped error code, the token guard, proxy and certificates. */
import { strict as assert } from 'node:assert';
import { ARM_ROUTES, AzureEmulator, ROLES, worldOf } from '../../emulator';
import { ARM_API_VERSIONS, armClient, roleFor } from '../../src/core/arm';
import { ManagedIdentityError } from '../../src/core/errors';
import { closeNetworkDispatchers } from '../../src/core/network';
import { fakeClock } from '../helpers/clock';
import { ARM_AUDIENCE, emulatorArm, emulatorCloud } from '../helpers/info';
import { startProxy } from '../helpers/proxy';
import { useEmulator } from '../helpers/emulator';

const FAST = { baseDelayMs: 10, maxDelayMs: 50 };

async function rejection(p: Promise<unknown>): Promise<ManagedIdentityError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ManagedIdentityError, String(e));
    return e;
  }
  throw new Error('expected a rejection');
}

describe('Resource Manager client', () => {
  let emu: AzureEmulator;
  let group: string;
  useEmulator({ userAssigned: ['id-norole'] }, (e) => {
    emu = e;
    group = worldOf(emu).groupId(emu.machine.resourceGroup);
  });
  afterEach(() => closeNetworkDispatchers());

  it('reads one resource and every page of a list', async () => {
    const world = worldOf(emu);
    world.addResources(10);
    world.resourcePageSize = 3;
    const arm = await emulatorArm(emu);
    const g = await arm.get<{ name: string }>(group, ARM_API_VERSIONS.resourceGroups);
    assert.equal(g.name, emu.machine.resourceGroup);
    const all = await arm.list<{ id: string }>(`${group}/resources`, ARM_API_VERSIONS.resources);
    assert.equal(all.length, world.resources.length);
    assert.equal(new Set(all.map((r) => r.id)).size, all.length);
    assert.equal(emu.received(ARM_ROUTES.resources).length, Math.ceil(all.length / 3));
  });

  for (const [status, after] of [
    [429, '7'],
    [503, '3'],
  ] as const) {
    it(`honours Retry-After (seconds) on ${status}`, async () => {
      emu.faults.script(ARM_ROUTES.resources, { status, headers: { 'Retry-After': after }, body: { error: { code: 'TooManyRequests', message: 'Too many requests.' } } }, 2);
      const clock = fakeClock();
      const retries: string[] = [];
      const arm = await emulatorArm(emu, { clock, retryPolicy: FAST, onRetry: (e) => retries.push(`${e.source}: ${e.reason}`) });
      const all = await arm.list(`${group}/resources`, ARM_API_VERSIONS.resources);
      assert.ok(all.length > 0);
      assert.deepEqual(clock.sleeps, [Number(after) * 1000, Number(after) * 1000]);
      assert.deepEqual(retries, [`Azure Resource Manager: HTTP ${status}`, `Azure Resource Manager: HTTP ${status}`]);
    });
  }

  for (const status of [500, 502, 504]) {
    it(`retries HTTP ${status} with back-off, ignoring Retry-After`, async () => {
      emu.faults.script(ARM_ROUTES.resourceGroup, { status, headers: { 'Retry-After': '60' }, body: { error: { code: 'InternalServerError', message: 'try again' } } }, 2);
      const clock = fakeClock();
      const arm = await emulatorArm(emu, { clock, retryPolicy: { baseDelayMs: 1000 } });
      await arm.get(group, ARM_API_VERSIONS.resourceGroups);
      assert.equal(clock.sleeps.length, 2);
      assert.ok(clock.sleeps[0] >= 800 && clock.sleeps[0] <= 1200, String(clock.sleeps));
      assert.ok(clock.sleeps[1] >= 1600 && clock.sleeps[1] <= 2400, String(clock.sleeps));
    });
  }

  it('retries a dropped connection', async () => {
    emu.faults.script(ARM_ROUTES.resourceGroup, { reset: true });
    const arm = await emulatorArm(emu, { retryPolicy: FAST });
    await arm.get(group, ARM_API_VERSIONS.resourceGroups);
    assert.equal(emu.received(ARM_ROUTES.resourceGroup).length, 2);
  });

  it('gives up on endless throttling with advice, after the retry budget', async () => {
    emu.faults.script(ARM_ROUTES.resourceGroup, { status: 429, headers: { 'Retry-After': '1' }, body: { error: { code: 'TooManyRequests', message: 'Rate limit exceeded.' } } }, 10);
    const arm = await emulatorArm(emu, { clock: fakeClock(), retryPolicy: FAST });
    const e = await rejection(arm.get(group, ARM_API_VERSIONS.resourceGroups));
    assert.equal(e.key, 'ArmThrottled');
    assert.match(e.message, /TooManyRequests: Rate limit exceeded.*raise timeoutSeconds/);
    assert.equal(emu.received(ARM_ROUTES.resourceGroup).length, 6);
  });

  it('cuts off a hung request and says the service did not answer', async () => {
    emu.faults.script(ARM_ROUTES.resourceGroup, { hang: true }, 20);
    const arm = await emulatorArm(emu, { requestTimeoutMs: 100, timeoutSeconds: 0.5, retryPolicy: FAST });
    const e = await rejection(arm.get(group, ARM_API_VERSIONS.resourceGroups));
    assert.equal(e.key, 'ServiceTimeout');
  });

  describe('maps ARM errors to advice', () => {
    it('AuthorizationFailed: which role, on which scope, for which identity', async () => {
      const uai = emu.machine.userAssigned[0];
      const arm = await emulatorArm(emu, { identity: { kind: 'clientId', id: uai.clientId } });
      const e = await rejection(arm.get(group, ARM_API_VERSIONS.resourceGroups));
      assert.equal(e.key, 'ArmAuthorizationFailed');
      assert.deepEqual(e.args.slice(0, 4), [uai.objectId, 'Microsoft.Resources/subscriptions/resourceGroups/read', group, 'Reader']);
      assert.match(e.message, /az role assignment create --assignee-object-id \S+ --assignee-principal-type ServicePrincipal --role "Reader" --scope \/subscriptions\//);
      // Resource Manager's request IDs, for a support case (the same GUID twice is shown once).
      assert.match(e.support ?? '', /^x-ms-request-id [0-9a-f-]{36}$/);
      assert.ok(e.message.endsWith(`: ${e.support}.`));
    });

    it('InvalidAuthenticationTokenAudience: choose the cloud or armAudience', async () => {
      const arm = await emulatorArm(emu, { audience: 'https://graph.microsoft.com' });
      const e = await rejection(arm.get(group, ARM_API_VERSIONS.resourceGroups));
      assert.equal(e.key, 'ArmTokenAudience');
      assert.match(e.message, /audience https:\/\/graph\.microsoft\.com .*set armAudience/);
    });

    it("ExpiredAuthenticationToken: check the agent's clock", async () => {
      // Minted here: the engine itself refuses an expired token from an identity endpoint.
      const a = emu.machine.systemAssigned!;
      const expired = emu.mint({ audience: ARM_AUDIENCE, clientId: a.clientId, objectId: a.objectId, miResourceId: a.resourceId, lifetimeSeconds: -600 });
      const cloud = emulatorCloud(emu);
      const arm = armClient(cloud.armEndpoint, expired.token, { objectId: a.objectId, audience: cloud.armAudience });
      const e = await rejection(arm.get(group, ARM_API_VERSIONS.resourceGroups));
      assert.equal(e.key, 'ArmTokenExpired');
      assert.match(e.message, /expiry UTC time .* clock/);
    });

    it('ResourceGroupNotFound: check resourceGroup and subscriptionId', async () => {
      worldOf(emu).assign(emu.machine.systemAssigned!.objectId, ROLES.Reader, `/subscriptions/${emu.machine.subscriptionId}`);
      const arm = await emulatorArm(emu);
      const e = await rejection(arm.get(`/subscriptions/${emu.machine.subscriptionId}/resourceGroups/rg-missing`, ARM_API_VERSIONS.resourceGroups));
      assert.equal(e.key, 'ArmResourceGroupNotFound');
      assert.deepEqual(e.args.slice(0, 2), ['rg-missing', emu.machine.subscriptionId]);
    });

    it('ResourceNotFound: check the name', async () => {
      const arm = await emulatorArm(emu);
      const e = await rejection(arm.get(`${group}/providers/Microsoft.KeyVault/vaults/kv-missing`, ARM_API_VERSIONS.keyVault));
      assert.equal(e.key, 'ArmResourceNotFound');
      assert.match(e.message, /kv-missing.*was not found/);
    });

    it('SubscriptionNotFound: check subscriptionId and the cloud', async () => {
      const arm = await emulatorArm(emu);
      const e = await rejection(arm.get('/subscriptions/11111111-2222-4333-8444-555555555555', ARM_API_VERSIONS.subscriptions));
      assert.equal(e.key, 'ArmSubscriptionNotFound');
      assert.equal(e.args[0], '11111111-2222-4333-8444-555555555555');
    });

    it('anything else: the status, the path and what ARM said', async () => {
      emu.faults.script(ARM_ROUTES.resourceGroup, { status: 409, body: { error: { code: 'Conflict', message: 'busy' } } });
      const arm = await emulatorArm(emu);
      const e = await rejection(arm.get(group, ARM_API_VERSIONS.resourceGroups));
      assert.equal(e.key, 'ArmRefused');
      assert.deepEqual(e.args, ['409', group, 'Conflict: busy']);
    });

    it('a body that is not JSON', async () => {
      emu.faults.script(ARM_ROUTES.resourceGroup, { status: 200, body: '<html>portal</html>' });
      const arm = await emulatorArm(emu);
      assert.equal((await rejection(arm.get(group, ARM_API_VERSIONS.resourceGroups))).key, 'ServiceNotJson');
    });
  });

  describe('paging', () => {
    it('stops at a nextLink that repeats', async () => {
      const again = `${emu.url}${group}/resources?api-version=2021-04-01&%24skiptoken=MQ`;
      emu.faults.script(ARM_ROUTES.resources, [
        { status: 200, body: { value: [{ id: 'a' }], nextLink: again } },
        { status: 200, body: { value: [{ id: 'b' }], nextLink: again } },
      ]);
      const arm = await emulatorArm(emu);
      const e = await rejection(arm.list(`${group}/resources`, ARM_API_VERSIONS.resources));
      assert.equal(e.key, 'NextLinkRepeated');
      assert.equal(emu.received(ARM_ROUTES.resources).length, 2);
    });

    it('stops after the page limit', async () => {
      worldOf(emu).resourcePageSize = 1;
      const arm = await emulatorArm(emu, { maxPages: 3 });
      const e = await rejection(arm.list(`${group}/resources`, ARM_API_VERSIONS.resources));
      assert.equal(e.key, 'TooManyPages');
      assert.equal(emu.received(ARM_ROUTES.resources).length, 3);
    });

    it('does not follow a nextLink to another host', async () => {
      emu.faults.script(ARM_ROUTES.resources, { status: 200, body: { value: [], nextLink: 'https://elsewhere.invalid/next' } });
      const arm = await emulatorArm(emu);
      const e = await rejection(arm.list(`${group}/resources`, ARM_API_VERSIONS.resources));
      assert.equal(e.key, 'NextLinkOtherHost');
    });
  });

  describe('the bearer-token guard', () => {
    it('refuses plain http to anything but loopback, before sending', async () => {
      const arm = armClient('http://management.invalid/', 'not-a-real-token', {}, { retryPolicy: FAST });
      const e = await rejection(arm.get('/subscriptions/x', ARM_API_VERSIONS.subscriptions));
      assert.equal(e.key, 'BearerNotHttps');
      assert.match(e.message, /http:\/\/management\.invalid.*only sent over https/);
    });
  });

  it('uses the agent certificate settings for https', async () => {
    const trusted = await emulatorArm(emu, { base: emu.httpsUrl, network: { caFile: emu.tls.pemFile } });
    await trusted.get(group, ARM_API_VERSIONS.resourceGroups);
    const untrusted = await emulatorArm(emu, { base: emu.httpsUrl, retryPolicy: FAST });
    const e = await rejection(untrusted.get(group, ARM_API_VERSIONS.resourceGroups));
    assert.equal(e.key, 'ServiceTls');
  });

  it('goes through the agent proxy', async () => {
    const proxy = await startProxy();
    try {
      const arm = await emulatorArm(emu, { network: { proxy: { url: proxy.url } } });
      await arm.get(group, ARM_API_VERSIONS.resourceGroups);
      assert.equal(proxy.seen.length, 1);
      assert.equal(proxy.seen[0].url, new URL(emu.url).host);
    } finally {
      proxy.close();
    }
  });

  it('suggests Reader for reads and a contributor role otherwise', () => {
    assert.equal(roleFor('Microsoft.KeyVault/vaults/read'), 'Reader');
    assert.equal(roleFor('Microsoft.KeyVault/vaults/write'), 'Key Vault Contributor');
    assert.equal(roleFor('Microsoft.Web/sites/restart/action'), 'Contributor');
  });
});
