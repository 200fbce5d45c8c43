/** The VM's instance metadata from IMDS, as documented, and what is kept of it. */
import { strict as assert } from 'node:assert';
import { AzureEmulator, IMDS_INSTANCE_ROUTE, imdsEnv, worldOf } from '../../emulator';
import { ManagedIdentityError } from '../../src/core/errors';
import { cloudOfEnvironment, readInstanceMetadata } from '../../src/core/instance';
import { useEmulator } from '../helpers/emulator';

describe('instance metadata', () => {
  let emu: AzureEmulator;
  useEmulator({}, (e) => {
    emu = e;
  });

  it('reads name, IDs, place, size, image, tags from tagsList and private IPs, with Metadata: true', async () => {
    const vm = worldOf(emu).vm;
    vm.scaleSet = 'vmss-agents';
    vm.tags.push({ name: 'cost;center', value: 'a:b' });
    const info = await readInstanceMetadata({ env: imdsEnv(emu) });
    const m = emu.machine;
    assert.deepEqual(
      [info.name, info.resourceId, info.subscriptionId, info.resourceGroup, info.location, info.vmSize, info.osType, info.scaleSet, info.zone, info.azEnvironment],
      [m.vmName, m.vmResourceId, m.subscriptionId, m.resourceGroup, 'westeurope', 'Standard_D4s_v5', 'Linux', 'vmss-agents', '1', 'AzurePublicCloud'],
    );
    assert.match(info.image ?? '', /^Canonical 0001-com-ubuntu-server-jammy 22_04-lts-gen2 /);
    assert.deepEqual(info.tags.at(-1), { name: 'cost;center', value: 'a:b' });
    assert.deepEqual(info.privateIps, ['10.1.0.4']);
    const [req] = emu.received(IMDS_INSTANCE_ROUTE);
    assert.equal(req.headers.metadata, 'true');
    assert.equal(new URL(req.url, 'http://x').searchParams.get('api-version'), '2021-02-01');
    assert.doesNotMatch(JSON.stringify(info), /azureuser|ssh-rsa/);
  });

  it('says at once that there is no instance metadata when nothing answers', async () => {
    emu.faults.script(IMDS_INSTANCE_ROUTE, { reset: true });
    const e = (await readInstanceMetadata({ env: imdsEnv(emu) }).catch((x: unknown) => x)) as ManagedIdentityError;
    assert.equal(e.key, 'InstanceMetadataUnavailable');
    assert.equal(emu.received(IMDS_INSTANCE_ROUTE).length, 1);
  });

  it("says there is no instance metadata when Docker Desktop's proxy answers 403 'unreachable network' for IMDS", async () => {
    // The body azure-identity for Python tests with (test_imds_request_failure_docker_desktop).
    const body = 'connecting to 169.254.169.254:80: connecting to 169.254.169.254:80: dial tcp 169.254.169.254:80: connectex: A socket operation was attempted to an unreachable network.';
    emu.faults.script(IMDS_INSTANCE_ROUTE, { status: 403, body });
    const e = (await readInstanceMetadata({ env: imdsEnv(emu) }).catch((x: unknown) => x)) as ManagedIdentityError;
    assert.equal(e.key, 'InstanceMetadataUnavailable');
    assert.equal(e.kind, 'noEndpoint');
    assert.match(e.message, /HTTP 403 from a proxy, not IMDS: .*unreachable network/);
  });

  it('retries IMDS throttling and server errors', async () => {
    emu.faults.script(IMDS_INSTANCE_ROUTE, [{ status: 429, headers: { 'Retry-After': '0' }, body: { error: 'Too many requests' } }, { status: 500, body: { error: 'Internal error' } }]);
    const info = await readInstanceMetadata({ env: imdsEnv(emu), retryPolicy: { baseDelayMs: 10 } });
    assert.equal(info.name, emu.machine.vmName);
  });

  it('reports a refusal with what IMDS said', async () => {
    emu.faults.script(IMDS_INSTANCE_ROUTE, { status: 400, body: { error: 'Bad request. api-version is invalid' } });
    const e = (await readInstanceMetadata({ env: imdsEnv(emu) }).catch((x: unknown) => x)) as ManagedIdentityError;
    assert.equal(e.key, 'InstanceMetadataRefused');
    assert.deepEqual(e.args, ['400', 'Bad request. api-version is invalid']);
  });

  it('knows the cloud of each azEnvironment, whatever its case', () => {
    assert.equal(cloudOfEnvironment('AZUREPUBLICCLOUD'), 'AzureCloud');
    assert.equal(cloudOfEnvironment('AzureUSGovernmentCloud'), 'AzureUSGovernment');
    assert.equal(cloudOfEnvironment('azurechinacloud'), 'AzureChinaCloud');
    assert.equal(cloudOfEnvironment('AzureGermanCloud'), undefined);
  });
});
