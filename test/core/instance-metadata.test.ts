import { strict as assert } from 'node:assert';
import { AzureEmulator, IMDS_INSTANCE_ROUTE, imdsEnv, startEmulator } from '../../emulator';
import { fetchInstanceMetadata } from '../../src/core/instance-metadata';
import { watchEmulator } from '../helpers/scan';

describe('IMDS instance metadata', () => {
  let emu: AzureEmulator;
  beforeEach(async () => {
    emu = await startEmulator();
    watchEmulator(emu);
  });
  afterEach(() => emu.stop());

  it("reads this VM's subscription and names with Metadata: true and api-version 2021-02-01", async () => {
    const meta = await fetchInstanceMetadata(imdsEnv(emu));
    assert.equal(meta?.subscriptionId, emu.machine.subscriptionId);
    assert.equal(meta?.resourceGroupName, emu.machine.resourceGroup);
    assert.equal(meta?.resourceId, emu.machine.vmResourceId);
    const [req] = emu.received(IMDS_INSTANCE_ROUTE);
    assert.equal(req.url, '/metadata/instance?api-version=2021-02-01');
    assert.equal(req.headers.metadata, 'true');
  });

  it('is undefined when IMDS refuses or is not there', async () => {
    emu.faults.script(IMDS_INSTANCE_ROUTE, { status: 400, body: { error: 'bad_request' } });
    assert.equal(await fetchInstanceMetadata(imdsEnv(emu)), undefined);
    const env = imdsEnv(emu);
    await emu.stop();
    assert.equal(await fetchInstanceMetadata(env, 1000), undefined);
  });
});
