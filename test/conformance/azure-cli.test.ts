/**
 * Conformance: the real Azure CLI (Debian's azure-cli, 2.45 in CI) signs in
 * with `az login --identity` against the emulator and gets a token with
 * `az account get-access-token`, in an isolated AZURE_CONFIG_DIR with the
 * emulator's Resource Manager (HTTPS, its CA trusted through
 * REQUESTS_CA_BUNDLE) as a custom cloud. Each az command takes seconds, so
 * these are a representative set, not the whole matrix: IMDS at the
 * well-known address (the CLI cannot be pointed elsewhere) system-assigned,
 * by object ID (the CLI first tries the GUID as a client ID and falls back
 * to an object ID on IMDS's "Identity not found") and by resource ID, in a
 * network namespace of the test's own; and MSI_ENDPOINT (which the CLI
 * reaches with its own POST protocol) by client ID. Skipped loudly where az
 * or namespaces are missing.
 */
import { strict as assert } from 'node:assert';
import { APP_SERVICE_LEGACY_TOKEN_ROUTE, IMDS_TOKEN_ROUTE, legacyDateForm, ROLES, worldOf } from '../../emulator';
import type { AzureEmulator } from '../../emulator';
import { AzureCliResult, netnsUnavailable, runAzureCli } from '../helpers/clients';
import { useEmulator } from '../helpers/emulator';
import { recordOutput } from '../helpers/scan';
import { findOnPath } from '../../scripts/paths';
import { EMULATOR_OPTIONS, emulatorBridges, sourceEnvOf, target } from './matrix';

const AZ = findOnPath('az');

describe('conformance: the Azure CLI (az login --identity, az account get-access-token) against the emulator', function () {
  this.timeout(180_000);
  let emu: AzureEmulator;
  useEmulator(EMULATOR_OPTIONS, (e) => {
    emu = e;
    // A role in the subscription, so that az login lists it for the user-assigned identity too.
    const world = worldOf(e);
    world.assign(target(e).objectId, ROLES.Reader, world.groupId(e.machine.resourceGroup));
  }, { once: true });

  before(function () {
    if (!AZ) {
      console.warn('    SKIPPED: the Azure CLI (az) is not installed: apt-get install azure-cli (.ci/run does) to run these tests.');
      this.skip();
    }
  });

  async function signIn(env: Record<string, string>, username: string | undefined, netns: boolean): Promise<AzureCliResult> {
    const r = await runAzureCli(AZ!, { env, armUrl: emu.httpsUrl, username }, { caFile: emu.tls.pemFile, netns: netns ? emulatorBridges(emu) : undefined, timeoutMs: 120_000 });
    recordOutput(`az login --identity ${username ?? ''}`, r.output, emu);
    return r;
  }

  /** The token az printed is one the emulator minted for this identity, with the expiry it gave. */
  function assertToken(r: AzureCliResult, identity: 'system' | 'user', accountUser: string): void {
    assert.ok(r.login.ok, r.login.error);
    assert.equal(r.login.accounts?.[0]?.id, emu.machine.subscriptionId);
    assert.equal(r.login.accounts?.[0]?.user.name, accountUser);
    assert.ok(r.token?.ok, r.token?.error);
    const minted = emu.minted.find((m) => m.token === r.token?.accessToken);
    assert.ok(minted, 'az returned a token the emulator minted');
    const id = identity === 'system' ? emu.machine.systemAssigned! : target(emu);
    assert.equal(minted.claims.oid, id.objectId);
    assert.equal(minted.claims.appid, id.clientId);
    // 2.45 prints expiresOn as local time "YYYY-MM-DD HH:MM:SS.ffffff" (the child has the same time zone as this process).
    const printed = Date.parse(String(r.token?.expiresOn).replace(' ', 'T')) / 1000;
    assert.ok(Math.abs(printed - (minted.claims.exp as number)) <= 2, `expiresOn ${r.token?.expiresOn} is the token's exp ${minted.claims.exp}`);
  }

  describe(`IMDS at the well-known address, in the test's own network namespace`, () => {
    before(async function () {
      const why = await netnsUnavailable();
      if (why) {
        console.warn(`    SKIPPED: the Azure CLI at IMDS's well-known address needs a network namespace: ${why}`);
        this.skip();
      }
    });

    it('system-assigned', async () => {
      assertToken(await signIn({}, undefined, true), 'system', 'systemAssignedIdentity');
    });

    it('user-assigned by object ID: the CLI tries it as a client ID, gets "Identity not found", then asks by object ID', async () => {
      const before = emu.received(IMDS_TOKEN_ROUTE).length;
      const r = await signIn({}, target(emu).objectId, true);
      assertToken(r, 'user', 'userAssignedIdentity');
      const asked = emu.received(IMDS_TOKEN_ROUTE).slice(before).map((q) => new URL(q.url, 'http://x').searchParams);
      assert.equal(asked[0].get('client_id'), target(emu).objectId);
      assert.ok(asked.some((q) => q.get('object_id') === target(emu).objectId), 'then by object_id');
    });

    it('user-assigned by resource ID (msi_res_id)', async () => {
      assertToken(await signIn({}, target(emu).resourceId, true), 'user', 'userAssignedIdentity');
    });
  });

  it('MSI_ENDPOINT + MSI_SECRET (the CLI POSTs there), user-assigned by client ID', async () => {
    assertToken(await signIn(sourceEnvOf(emu, 'appService2017'), target(emu).clientId, false), 'user', 'userAssignedIdentity');
  });

  it('App Service on Linux (APPSETTING_WEBSITE_SITE_NAME too): the CLI GETs {MSI_ENDPOINT}/?resource=… with api-version 2017-09-01 and reads the Linux date form, system-assigned', async () => {
    // Azure CLI 2.45 parses only the Linux form of expires_on ("%m/%d/%Y %H:%M:%S %z"): on the Windows form it fails with a ValueError.
    legacyDateForm(emu, 'linux');
    const before = emu.received(APP_SERVICE_LEGACY_TOKEN_ROUTE).length;
    try {
      assertToken(await signIn({ ...sourceEnvOf(emu, 'appService2017'), APPSETTING_WEBSITE_SITE_NAME: 'app-agents' }, undefined, false), 'system', 'systemAssignedIdentity');
    } finally {
      legacyDateForm(emu, 'windows');
    }
    const asked = emu.received(APP_SERVICE_LEGACY_TOKEN_ROUTE).slice(before);
    assert.ok(asked.length >= 1, 'the CLI asked the 2017-09-01 protocol');
    assert.match(asked[0].url, /\/\?resource=/, 'with a slash before the query, as App Service accepts');
  });
});
