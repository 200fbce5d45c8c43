/** The Azure emulator with every protocol module registered. */
import { registerImds } from './imds';
import { registerArm } from './arm';
import { registerDevOps } from './devops';
import { registerInstance } from './instance';
import { registerMsiEndpoint } from './msi-endpoint';
import { AzureEmulator, EmulatorOptions } from './server';

export { AzureEmulator } from './server';
export type { EmulatorOptions, Reply, RecordedRequest } from './server';
export type { FaultStep } from './faults';
export { IMDS_TOKEN_ROUTE } from './imds';
export { ARM_SUBSCRIPTIONS_ROUTE, armOf } from './arm';
export { DEVOPS_ANONYMOUS_ID, DEVOPS_CONNECTION_DATA_ROUTE, devopsOf } from './devops';
export { IMDS_INSTANCE_ROUTE } from './instance';
export { MSI_ENDPOINT_ROUTE, msiEndpointEnv } from './msi-endpoint';

/** Starts an emulator on a free loopback port with every protocol served. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<AzureEmulator> {
  const emu = new AzureEmulator(options);
  registerImds(emu);
  registerArm(emu);
  registerDevOps(emu);
  registerInstance(emu);
  registerMsiEndpoint(emu);
  return emu.start();
}

/** The environment that points the identity code at an emulator as IMDS. */
export function imdsEnv(emu: AzureEmulator): Record<string, string> {
  return { AZURE_POD_IDENTITY_AUTHORITY_HOST: emu.url };
}
