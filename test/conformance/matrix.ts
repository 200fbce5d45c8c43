/**
 * The conformance matrix: which host kinds (sources) the emulator serves,
 * how each is reached, which identity each case names, and what the real
 * service would give. Shared by the client suites in this folder.
 */
import { strict as assert } from 'node:assert';
import {
  appServiceEnv,
  appServiceLegacyEnv,
  arcEnv,
  azureMachineLearningEnv,
  AzureEmulator,
  cloudShellEnv,
  imdsEnv,
  serviceFabricEnv,
  workloadIdentityEnv,
} from '../../emulator';
import type { EmulatedIdentity } from '../../emulator/identities';
import { ClientResult, IMDS_ADDRESS, NetnsBridge, Selector } from '../helpers/clients';

export type SourceKey =
  | 'imds'
  | 'imdsWellKnown'
  | 'appService'
  | 'appService2017'
  | 'azureML'
  | 'cloudShell'
  | 'serviceFabric'
  | 'azureArc'
  | 'workloadIdentity';

export type IdentityKind = 'system' | 'clientId' | 'objectId' | 'resourceId' | 'unknownClientId';
export const KINDS: IdentityKind[] = ['system', 'clientId', 'objectId', 'resourceId', 'unknownClientId'];

/** How a source is described in test names. */
export const SOURCE_TITLES: Record<SourceKey, string> = {
  imds: 'IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST)',
  imdsWellKnown: `IMDS at ${IMDS_ADDRESS} (own network namespace)`,
  appService: 'App Service 2019-08-01 (IDENTITY_ENDPOINT)',
  appService2017: 'App Service 2017-09-01 (MSI_ENDPOINT + MSI_SECRET)',
  azureML: 'Azure Machine Learning (MSI_ENDPOINT + MSI_SECRET + DEFAULT_IDENTITY_CLIENT_ID)',
  cloudShell: 'Cloud Shell (MSI_ENDPOINT)',
  serviceFabric: 'Service Fabric (HTTPS, pinned thumbprint)',
  azureArc: 'Azure Arc (IDENTITY_ENDPOINT + IMDS_ENDPOINT)',
  workloadIdentity: 'workload identity (Entra ID over HTTPS)',
};

/** What a case should end in. */
export type Expect =
  /** A token for this identity, with the expiry the service gave. */
  | { identity: 'system' | 'user'; expiry?: 'exact' | 'readAsNow' }
  /** The client's or the service's refusal. */
  | { refused: RegExp };

export interface Expectation {
  expect: Expect;
  /** Why (quoted in the case name): the client's design, or the service's documented answer. */
  why?: string;
  /** The client reads Arc key files only from the agent's real folder: run in an own mount namespace, or skip loudly. */
  needsArcFolder?: boolean;
}

/** The user-assigned identity every user-assigned case names (the second of two, so "the only one" cannot pass by chance). */
export const EMULATOR_OPTIONS = { userAssigned: ['id-build', 'id-deploy'] };
export function target(emu: AzureEmulator): EmulatedIdentity {
  return emu.machine.userAssigned[1];
}
export const UNKNOWN_CLIENT_ID = '0f0f0f0f-1111-4222-8333-444444444444';

/** The environment of a source, pointing at the emulator. */
export function sourceEnvOf(emu: AzureEmulator, source: SourceKey): Record<string, string> {
  switch (source) {
    case 'imds':
      return imdsEnv(emu);
    case 'imdsWellKnown':
      return {};
    case 'appService':
      return appServiceEnv(emu);
    case 'appService2017':
      return appServiceLegacyEnv(emu);
    case 'azureML':
      return azureMachineLearningEnv(emu);
    case 'cloudShell':
      return cloudShellEnv(emu);
    case 'serviceFabric':
      return serviceFabricEnv(emu);
    case 'azureArc':
      return arcEnv(emu);
    case 'workloadIdentity':
      return workloadIdentityEnv(emu, { identity: target(emu) });
  }
}

export function selectorOf(emu: AzureEmulator, kind: IdentityKind): Selector | undefined {
  const t = target(emu);
  switch (kind) {
    case 'system':
      return undefined;
    case 'clientId':
      return { clientId: t.clientId };
    case 'objectId':
      return { objectId: t.objectId };
    case 'resourceId':
      return { resourceId: t.resourceId };
    case 'unknownClientId':
      return { clientId: UNKNOWN_CLIENT_ID };
  }
}

/** Inside a run's own network namespace: the well-known IMDS address and the emulator's own ports, carried to the emulator. */
export function emulatorBridges(emu: AzureEmulator): NetnsBridge[] {
  const http = Number(new URL(emu.url).port);
  const https = Number(new URL(emu.httpsUrl).port);
  return [
    { host: IMDS_ADDRESS, port: 80, to: { host: '127.0.0.1', port: http } },
    { host: '127.0.0.1', port: http, to: { host: '127.0.0.1', port: http } },
    { host: '127.0.0.1', port: https, to: { host: '127.0.0.1', port: https } },
  ];
}

/** Asserts a client's result against the expectation, using what the emulator minted. */
export function check(emu: AzureEmulator, result: ClientResult | undefined, expectation: Expectation, resource: string): void {
  assert.ok(result, 'the runner returned no result for this case');
  const { expect } = expectation;
  if ('refused' in expect) {
    assert.ok(!result.ok, `expected a refusal matching ${expect.refused}, got a token`);
    assert.match(`${result.error?.name}: ${result.error?.message} ${result.error?.causeMessage ?? ''}`, expect.refused);
    return;
  }
  assert.ok(result.ok, `expected a token, got ${result.error?.name}: ${result.error?.message}`);
  const minted = emu.minted.find((m) => m.token === result.token);
  assert.ok(minted, 'the token is one the emulator minted');
  const identity = expect.identity === 'system' ? emu.machine.systemAssigned! : target(emu);
  assert.equal(minted.claims.oid, identity.objectId, `a token for the ${expect.identity}-assigned identity (oid)`);
  assert.equal(minted.claims.appid ?? minted.claims.azp, identity.clientId, 'appid');
  assert.equal(String(minted.claims.aud).replace(/\/+$/, ''), resource.replace(/\/+$/, ''), 'aud');
  const exp = minted.claims.exp as number;
  if ((expect.expiry ?? 'exact') === 'exact') {
    assert.ok(Math.abs((result.expiresOn ?? 0) - exp) <= 2, `expires at ${exp}, the client says ${result.expiresOn}`);
  } else {
    // The client could not read the expiry and takes the token as expiring now.
    assert.ok((result.expiresOn ?? 0) < Date.now() / 1000 + 300, `the client reads the date-string expiry as ${result.expiresOn}`);
  }
}
