/**
 * The 2017-09-01 protocol on Azure Machine Learning: the default identity named by
 * DEFAULT_IDENTITY_CLIENT_ID, and expires_on in epoch seconds beside App Service's date string.
 */
import { strict as assert } from 'node:assert';
import { APP_SERVICE_LEGACY_TOKEN_ROUTE, appServiceLegacyEnv, AZURE_ML_TOKEN_ROUTE, AzureEmulator, azureMachineLearningEnv, EmulatorOptions } from '../../../emulator';
import { acquireToken } from '../../../src/core/acquire';
import { userAssigned } from '../../../src/core/identity';
import { withEmulator } from '../../helpers/emulator';
import { sourceOptions } from '../../helpers/sources';

function sent(emu: AzureEmulator, route = AZURE_ML_TOKEN_ROUTE): URLSearchParams {
  return new URL(emu.received(route).at(-1)!.url, 'http://x').searchParams;
}

describe('Azure Machine Learning (2017-09-01 protocol)', () => {
  /** Runs `body` with an emulator (whose Azure Machine Learning endpoint azureMachineLearningEnv names). */
  const aml = (body: (emu: AzureEmulator) => Promise<void>, options: EmulatorOptions = { userAssigned: ['id-a', 'id-b'] }) => withEmulator(options, body);

  it('names DEFAULT_IDENTITY_CLIENT_ID as clientid for the system-assigned request, and reads expires_on in epoch seconds', () =>
    aml(async (emu) => {
      const env = azureMachineLearningEnv(emu);
      const result = await acquireToken(sourceOptions(emu, 'appServiceLegacy', { env }));
      assert.equal(sent(emu).get('clientid'), emu.machine.systemAssigned?.clientId);
      assert.equal(env.DEFAULT_IDENTITY_CLIENT_ID, emu.machine.systemAssigned?.clientId);
      assert.deepEqual(result.identity, { kind: 'clientId', id: emu.machine.systemAssigned?.clientId });
      assert.equal(result.claims?.oid, emu.machine.systemAssigned?.objectId);
      assert.equal(result.expiresOn.getTime(), (emu.minted.at(-1)!.claims.exp as number) * 1000);
      assert.deepEqual(result.warnings, []);
    }));

  it('the emulator answers as Azure Machine Learning does: expires_on a number of epoch seconds', () =>
    aml(async (emu) => {
      const env = azureMachineLearningEnv(emu);
      const url = `${env.MSI_ENDPOINT}?api-version=2017-09-01&resource=${encodeURIComponent('https://vault.azure.net')}&clientid=${env.DEFAULT_IDENTITY_CLIENT_ID}`;
      const body = (await (await fetch(url, { headers: { secret: env.MSI_SECRET } })).json()) as Record<string, unknown>;
      assert.equal(typeof body.expires_on, 'number');
      assert.equal(body.expires_on, emu.minted.at(-1)!.claims.exp);
    }));

  it('sends the default identity when it is the one user-assigned identity of a compute without a system-assigned one', () =>
    aml(async (emu) => {
      const result = await acquireToken(sourceOptions(emu, 'appServiceLegacy', { env: azureMachineLearningEnv(emu) }));
      assert.equal(sent(emu).get('clientid'), emu.machine.userAssigned[0].clientId);
      assert.equal(result.claims?.oid, emu.machine.userAssigned[0].objectId);
    }, { systemAssigned: false, userAssigned: ['compute-identity'] }));

  it('sends the client ID asked for instead of the default', () =>
    aml(async (emu) => {
      const target = emu.machine.userAssigned[1];
      const result = await acquireToken(sourceOptions(emu, 'appServiceLegacy', { env: azureMachineLearningEnv(emu), identity: userAssigned('clientId', target.clientId) }));
      assert.equal(sent(emu).get('clientid'), target.clientId);
      assert.equal(result.claims?.oid, target.objectId);
    }));

  it('without DEFAULT_IDENTITY_CLIENT_ID (App Service) sends no clientid and reads the date-string expires_on', () =>
    aml(async (emu) => {
      const result = await acquireToken(sourceOptions(emu, 'appServiceLegacy', { env: appServiceLegacyEnv(emu) }));
      assert.equal(sent(emu, APP_SERVICE_LEGACY_TOKEN_ROUTE).get('clientid'), null);
      assert.deepEqual(result.identity, { kind: 'system' });
      assert.equal(result.expiresOn.getTime(), (emu.minted.at(-1)!.claims.exp as number) * 1000);
    }));
});
