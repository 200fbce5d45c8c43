/** The Azure emulator with every protocol module registered. */
import type { SourceName } from '../src/core/sources/types';
import { appServiceEnv, registerAppService } from './app-service';
import { appServiceLegacyEnv, registerAppServiceLegacy } from './app-service-legacy';
import { arcEnv, registerAzureArc } from './azure-arc';
import { cloudShellEnv, registerCloudShell } from './cloud-shell';
import { registerEntra, workloadIdentityEnv } from './entra';
import { registerImds } from './imds';
import { registerArm } from './arm';
import { registerCloudMetadata } from './cloud-metadata';
import { registerDevOps } from './devops';
import { registerInstance } from './instance';
import { registerKeyVault } from './keyvault';
import { registerMsiEndpoint } from './msi-endpoint';
import { AzureEmulator, EmulatorOptions } from './server';
import { registerServiceFabric, serviceFabricEnv } from './service-fabric';

export { AzureEmulator } from './server';
export type { EmulatorOptions, Reply, RecordedRequest } from './server';
export type { FaultStep } from './faults';
export { IMDS_TOKEN_ROUTE } from './imds';
export { APP_SERVICE_TOKEN_ROUTE, appServiceEnv } from './app-service';
export { APP_SERVICE_LEGACY_TOKEN_ROUTE, appServiceLegacyEnv, AZURE_ML_TOKEN_ROUTE, azureMachineLearningEnv, legacyDateForm, legacyExpiresOn } from './app-service-legacy';
export type { LegacyDateForm, LegacyHost } from './app-service-legacy';
export { ARC_TOKEN_ROUTE, arcAnnounceFolder, arcEnv, arcTestHooks, arcTokenFolder, setArcAgent } from './azure-arc';
export type { ArcAgentOptions } from './azure-arc';
export { CLOUD_SHELL_TOKEN_ROUTE, cloudShellEnv } from './cloud-shell';
export { ENTRA_DISCOVERY_ROUTE, ENTRA_TOKEN_ROUTE, federatedToken, workloadIdentityEnv } from './entra';
export type { FederatedTokenOptions } from './entra';
export { SERVICE_FABRIC_TOKEN_ROUTE, serviceFabricEnv } from './service-fabric';
export { ARM_ROUTES } from './arm';
export { IMDS_INSTANCE_ROUTE } from './instance';
export { KEYVAULT_ROUTES } from './keyvault';
export { AzureWorld, ROLES, worldOf } from './world';
export type { VaultSeed, WorldVault } from './world';
export { ARM_SUBSCRIPTIONS_ROUTE } from './arm';
export { CLOUD_METADATA_ROUTE } from './cloud-metadata';
export { DEVOPS_ANONYMOUS_ID, DEVOPS_CONNECTION_DATA_ROUTE, devopsOf } from './devops';
export { MSI_ENDPOINT_ROUTE, msiEndpointEnv } from './msi-endpoint';

/** Starts an emulator on a free loopback port with every protocol served. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<AzureEmulator> {
  const emu = new AzureEmulator(options);
  registerImds(emu);
  registerAppService(emu);
  registerAppServiceLegacy(emu);
  registerCloudShell(emu);
  registerAzureArc(emu);
  registerServiceFabric(emu);
  registerEntra(emu);
  registerArm(emu);
  registerKeyVault(emu);
  registerInstance(emu);
  registerCloudMetadata(emu);
  registerDevOps(emu);
  registerMsiEndpoint(emu);
  return emu.start();
}

/** The environment that points the identity code at an emulator as IMDS. */
export function imdsEnv(emu: AzureEmulator): Record<string, string> {
  return { AZURE_POD_IDENTITY_AUTHORITY_HOST: emu.url };
}

/**
 * The environment of a host of this kind, pointing at the emulator. Azure Arc
 * also needs the core's test hook for its token folder (arcTestHooks), and
 * workload identity a user-assigned identity on the emulated machine.
 */
export function sourceEnv(emu: AzureEmulator, source: SourceName): Record<string, string> {
  const envs: Record<SourceName, (e: AzureEmulator) => Record<string, string>> = {
    workloadIdentity: workloadIdentityEnv,
    serviceFabric: serviceFabricEnv,
    appService: appServiceEnv,
    appServiceLegacy: appServiceLegacyEnv,
    cloudShell: cloudShellEnv,
    azureArc: arcEnv,
    imds: imdsEnv,
  };
  return envs[source](emu);
}
