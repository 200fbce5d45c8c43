/** What the source tests need of each host kind: its emulator route, environment and wire parameters. */
import { strict as assert } from 'node:assert';
import {
  APP_SERVICE_LEGACY_TOKEN_ROUTE,
  APP_SERVICE_TOKEN_ROUTE,
  ARC_TOKEN_ROUTE,
  arcTestHooks,
  AzureEmulator,
  CLOUD_SHELL_TOKEN_ROUTE,
  ENTRA_TOKEN_ROUTE,
  IMDS_TOKEN_ROUTE,
  RecordedRequest,
  SERVICE_FABRIC_TOKEN_ROUTE,
  sourceEnv,
} from '../../emulator';
import { acquireToken, AcquireOptions } from '../../src/core/acquire';
import { parseAudience } from '../../src/core/audience';
import { ManagedIdentityError } from '../../src/core/errors';
import type { IdentityIdType } from '../../src/core/identity';
import type { SourceName } from '../../src/core/sources/types';

export interface SourceCase {
  name: SourceName;
  route: string;
  /** The parameter each selector this source supports is sent as. */
  params: Partial<Record<IdentityIdType, string>>;
  /** Where the parameters go: the query string, or a form body. */
  paramsIn: 'query' | 'body';
  /** How expires_on or expires_in comes: fixed epoch (expires_on) or relative (expires_in). */
  expiry: 'expires_on' | 'expires_in';
}

export const SOURCE_CASES: readonly SourceCase[] = [
  { name: 'workloadIdentity', route: ENTRA_TOKEN_ROUTE, params: { clientId: 'client_id' }, paramsIn: 'body', expiry: 'expires_in' },
  { name: 'serviceFabric', route: SERVICE_FABRIC_TOKEN_ROUTE, params: {}, paramsIn: 'query', expiry: 'expires_on' },
  { name: 'appService', route: APP_SERVICE_TOKEN_ROUTE, params: { clientId: 'client_id', objectId: 'principal_id', resourceId: 'mi_res_id' }, paramsIn: 'query', expiry: 'expires_on' },
  { name: 'appServiceLegacy', route: APP_SERVICE_LEGACY_TOKEN_ROUTE, params: { clientId: 'clientid' }, paramsIn: 'query', expiry: 'expires_on' },
  { name: 'cloudShell', route: CLOUD_SHELL_TOKEN_ROUTE, params: {}, paramsIn: 'body', expiry: 'expires_on' },
  { name: 'azureArc', route: ARC_TOKEN_ROUTE, params: { clientId: 'client_id', objectId: 'object_id', resourceId: 'msi_res_id' }, paramsIn: 'query', expiry: 'expires_on' },
  { name: 'imds', route: IMDS_TOKEN_ROUTE, params: { clientId: 'client_id', objectId: 'object_id', resourceId: 'msi_res_id' }, paramsIn: 'query', expiry: 'expires_on' },
];

/** Retries scaled down 100×, so fault tests take milliseconds. */
export const FAST = { baseDelayMs: 10, maxDelayMs: 100, goneWindowMs: 700 };

/** The options that point acquireToken at one host kind on the emulator (hermetic: no himds lookup on this machine). */
export function sourceOptions(emu: AzureEmulator, name: SourceName, extra: Partial<AcquireOptions> = {}): AcquireOptions {
  return {
    audience: parseAudience('AzureResourceManager'),
    testHooks: { ...arcTestHooks(emu), arcHimdsFile: '/nonexistent/himds' },
    retryPolicy: FAST,
    // Entra ID is served over HTTPS with the emulator's certificate (the agent's CA file, for in-process code).
    network: { caFile: emu.tls.pemFile },
    ...extra,
    env: extra.env ?? sourceEnv(emu, name),
  };
}

/** The parameters of a recorded request: its query string, or its form body. */
export function sentParams(req: RecordedRequest, where: 'query' | 'body'): URLSearchParams {
  return where === 'query' ? new URL(req.url, 'http://x').searchParams : new URLSearchParams(req.body);
}

export async function failure(options: AcquireOptions): Promise<ManagedIdentityError> {
  try {
    await acquireToken(options);
  } catch (e) {
    assert.ok(e instanceof ManagedIdentityError, `expected a ManagedIdentityError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a failure');
}
