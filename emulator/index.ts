/** The Azure emulator with every protocol module registered. */
import { registerImds } from './imds';
import { registerArm } from './arm';
import { registerInstance } from './instance';
import { registerKeyVault } from './keyvault';
import { AzureEmulator, EmulatorOptions } from './server';

export { AzureEmulator } from './server';
export type { EmulatorOptions, Reply, RecordedRequest } from './server';
export type { FaultStep } from './faults';
export { IMDS_TOKEN_ROUTE } from './imds';
export { ARM_ROUTES } from './arm';
export { IMDS_INSTANCE_ROUTE } from './instance';
export { KEYVAULT_ROUTES } from './keyvault';
export { AzureWorld, ROLES, worldOf } from './world';
export type { VaultSeed, WorldVault } from './world';

/** Starts an emulator on a free loopback port with every protocol served. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<AzureEmulator> {
  const emu = new AzureEmulator(options);
  registerImds(emu);
  registerArm(emu);
  registerKeyVault(emu);
  registerInstance(emu);
  return emu.start();
}

/** The environment that points the identity code at an emulator as IMDS. */
export function imdsEnv(emu: AzureEmulator): Record<string, string> {
  return { AZURE_POD_IDENTITY_AUTHORITY_HOST: emu.url };
}
