/**
 * IMDS instance metadata: GET /metadata/instance?api-version=… with
 * "Metadata: true", answering the VM's compute (and a little network) data.
 */
import { badRequest } from './imds';
import type { AzureEmulator } from './server';

export const IMDS_INSTANCE_ROUTE = 'imds.instance';
const INSTANCE_VERSIONS = new Set(['2017-08-01', '2019-06-01', '2020-09-01', '2021-02-01', '2021-12-13', '2023-07-01']);

export function registerInstance(emu: AzureEmulator): void {
  emu.route(IMDS_INSTANCE_ROUTE, 'GET', '/metadata/instance', ({ url, header }) => {
    if (header('metadata') !== 'true') return badRequest('bad_request_102', 'Required metadata header not specified');
    const version = url.searchParams.get('api-version');
    if (!version || !INSTANCE_VERSIONS.has(version)) return badRequest('invalid_request', `Unsupported api-version ${version ?? ''}`.trim());
    const m = emu.machine;
    return {
      status: 200,
      body: {
        compute: {
          azEnvironment: 'AzurePublicCloud',
          location: 'westeurope',
          name: m.vmName,
          osType: 'Linux',
          resourceGroupName: m.resourceGroup,
          resourceId: m.vmResourceId,
          subscriptionId: m.subscriptionId,
          tags: '',
          vmId: '02aab8a4-74ef-476e-8182-f6d2ba4166a6',
          vmSize: 'Standard_D2s_v5',
        },
        network: { interface: [{ ipv4: { ipAddress: [{ privateIpAddress: '10.0.0.4', publicIpAddress: '' }] }, macAddress: '000D3A00AA01' }] },
      },
    };
  });
}
