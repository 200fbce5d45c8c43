/**
 * IMDS instance metadata, as documented (Azure Instance Metadata Service):
 * GET /metadata/instance?api-version=… with "Metadata: true", no proxy
 * (X-Forwarded-For is refused). The answer has compute and network objects
 * whose leaves are all strings, tags both as "k:v;k:v" and as tagsList.
 * Built from the Machine (names, IDs) and the world's VmDetails.
 */
import { randomUUID } from 'node:crypto';
import { AzureEmulator } from './server';
import type { Reply } from './server';
import { worldOf } from './world';

export const IMDS_INSTANCE_ROUTE = 'imds.instance';
const NEWEST = ['2023-07-01', '2021-12-13', '2021-11-15'];
const VERSIONS = new Set(['2019-06-01', '2019-06-04', '2019-08-15', '2020-06-01', '2020-09-01', '2020-10-01', '2021-01-01', '2021-02-01', '2021-03-01', '2021-05-01', '2021-08-01', '2021-10-01', '2021-11-01', '2021-11-15', '2021-12-13', '2023-07-01']);

const bad = (error: string, versions = false): Reply => ({ status: 400, body: versions ? { error, 'newest-versions': NEWEST } : { error } });

export function registerInstance(emu: AzureEmulator): void {
  const vmId = randomUUID();
  emu.route(IMDS_INSTANCE_ROUTE, 'GET', '/metadata/instance', ({ url, header }) => {
    if (header('x-forwarded-for')) return bad('Bad request. Requests through a proxy are not allowed.');
    if (header('metadata') !== 'true') return bad('Bad request. Required metadata header not specified');
    const version = url.searchParams.get('api-version');
    if (!version) return bad('Bad request. api-version was not specified in the request. For more information refer to aka.ms/azureimds', true);
    if (!VERSIONS.has(version)) return bad('Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds', true);
    const m = emu.machine;
    const world = worldOf(emu);
    const vm = world.vm;
    const scaleSet = vm.scaleSet
      ? { virtualMachineScaleSet: { id: `/subscriptions/${m.subscriptionId}/resourceGroups/${m.resourceGroup}/providers/Microsoft.Compute/virtualMachineScaleSets/${vm.scaleSet}` } }
      : {};
    return {
      status: 200,
      body: {
        compute: {
          azEnvironment: vm.azEnvironment,
          additionalCapabilities: { hibernationEnabled: 'false' },
          evictionPolicy: '',
          isHostCompatibilityLayerVm: 'false',
          licenseType: '',
          location: world.location,
          name: m.vmName,
          offer: '0001-com-ubuntu-server-jammy',
          osProfile: { adminUsername: 'azureuser', computerName: m.vmName, disablePasswordAuthentication: 'true' },
          osType: vm.osType,
          placementGroupId: '',
          plan: { name: '', product: '', publisher: '' },
          platformFaultDomain: '0',
          platformUpdateDomain: '0',
          priority: 'Regular',
          provider: 'Microsoft.Compute',
          publicKeys: [{ keyData: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ emulator', path: '/home/azureuser/.ssh/authorized_keys' }],
          publisher: 'Canonical',
          resourceGroupName: m.resourceGroup,
          resourceId: m.vmResourceId,
          securityProfile: { secureBootEnabled: 'true', virtualTpmEnabled: 'true', encryptionAtHost: 'false', securityType: 'TrustedLaunch' },
          sku: '22_04-lts-gen2',
          subscriptionId: m.subscriptionId,
          tags: vm.tags.map((t) => `${t.name}:${t.value}`).join(';'),
          tagsList: vm.tags,
          userData: '',
          version: '22.04.202405140',
          ...scaleSet,
          vmId,
          vmScaleSetName: vm.scaleSet,
          vmSize: vm.size,
          zone: vm.zone,
        },
        network: {
          interface: [
            {
              ipv4: { ipAddress: [{ privateIpAddress: vm.privateIp, publicIpAddress: '' }], subnet: [{ address: vm.privateIp.replace(/\.\d+$/, '.0'), prefix: '24' }] },
              ipv6: { ipAddress: [] },
              macAddress: '000D3A2B4C5D',
            },
          ],
        },
      },
    };
  });
}
