/** Which token source an environment selects: the Azure SDK order, first match wins; forced sources need their environment. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedIdentityError } from '../../../src/core/errors';
import { IdentitySelector, userAssigned } from '../../../src/core/identity';
import { endpointUrl } from '../../../src/core/sources/common';
import { IdentitySourceChoice, parseIdentitySource, selectSource as select, SOURCES } from '../../../src/core/sources/select';
import { SOURCE_NAMES, SourceTestHooks, TokenSource } from '../../../src/core/sources/types';

/** The source an environment (or a forced choice) selects. */
function selectSource(env: NodeJS.ProcessEnv, choice: IdentitySourceChoice = 'auto', identity: IdentitySelector = { kind: 'system' }, hooks: SourceTestHooks = {}): TokenSource {
  return select({ env, identity, hooks }, choice).source;
}

const NO_HIMDS = { arcHimdsFile: '/nonexistent/himds' };
const EVERYTHING = {
  AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token',
  AZURE_TENANT_ID: 'aaaabbbb-0000-cccc-1111-dddd2222eeee',
  AZURE_CLIENT_ID: '11111111-2222-4333-8444-555555555555',
  IDENTITY_ENDPOINT: 'http://localhost:40342/metadata/identity/oauth2/token',
  IDENTITY_HEADER: 'header',
  IDENTITY_SERVER_THUMBPRINT: 'B02E66EA7BF6540AD8E09107F44E58A106D495EE',
  MSI_ENDPOINT: 'http://localhost:50342/oauth2/token',
  MSI_SECRET: 'secret',
  IMDS_ENDPOINT: 'http://localhost:40342',
};

function without(env: Record<string, string>, ...names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !names.includes(k)));
}

describe('token source selection', () => {
  it('lists the sources in the Azure SDK detection order, IMDS last', () => {
    assert.deepEqual(SOURCES.map((s) => s.name), [...SOURCE_NAMES]);
  });

  it('picks the first source whose environment is present', () => {
    const steps: Array<[string[], string]> = [
      [[], 'workloadIdentity'],
      [['AZURE_FEDERATED_TOKEN_FILE'], 'serviceFabric'],
      [['IDENTITY_SERVER_THUMBPRINT'], 'appService'],
      [['IDENTITY_HEADER'], 'appServiceLegacy'],
      [['MSI_SECRET'], 'cloudShell'],
      [['MSI_ENDPOINT'], 'azureArc'],
      [['IMDS_ENDPOINT'], 'imds'],
    ];
    let env: Record<string, string> = EVERYTHING;
    for (const [remove, expected] of steps) {
      env = without(env, ...remove);
      assert.equal(selectSource(env, 'auto', undefined, NO_HIMDS).name, expected, `without ${remove.join(', ') || 'nothing'}`);
    }
  });

  it('takes workload identity only with a client ID, from AZURE_CLIENT_ID or the input', () => {
    const env = without(EVERYTHING, 'AZURE_CLIENT_ID');
    assert.equal(selectSource(env, 'auto', undefined, NO_HIMDS).name, 'serviceFabric');
    assert.equal(selectSource(env, 'auto', userAssigned('clientId', EVERYTHING.AZURE_CLIENT_ID), NO_HIMDS).name, 'workloadIdentity');
  });

  it('takes MSI_SECRET with IDENTITY_ENDPOINT as the 2017-09-01 protocol (Azure Machine Learning)', () => {
    assert.equal(selectSource({ IDENTITY_ENDPOINT: 'http://127.0.0.1:46809/MSI/token', MSI_SECRET: 's' }, 'auto', undefined, NO_HIMDS).name, 'appServiceLegacy');
  });

  it('takes Azure Arc when the himds agent is installed, without any variable', () => {
    const himds = join(mkdtempSync(join(tmpdir(), 'himds-')), 'himds');
    writeFileSync(himds, '');
    assert.equal(selectSource({}, 'auto', undefined, { arcHimdsFile: himds }).name, 'azureArc');
    assert.equal(selectSource({}, 'auto', undefined, NO_HIMDS).name, 'imds');
  });

  it('uses a forced source over the detected one, and says what a forced source lacks', () => {
    assert.equal(selectSource(EVERYTHING, 'imds', undefined, NO_HIMDS).name, 'imds');
    assert.equal(selectSource(EVERYTHING, 'azureArc', undefined, NO_HIMDS).name, 'azureArc');
    assert.throws(
      () => selectSource({}, 'appService', undefined, NO_HIMDS),
      (e: ManagedIdentityError) => e.kind === 'hostSetup' && e.key === 'SourceNotConfigured' && /IDENTITY_ENDPOINT and IDENTITY_HEADER/.test(e.message),
    );
  });

  it('validates the identitySource value', () => {
    assert.equal(parseIdentitySource(undefined), 'auto');
    assert.equal(parseIdentitySource(' azureArc '), 'azureArc');
    assert.throws(() => parseIdentitySource('vm'), (e: ManagedIdentityError) => e.key === 'IdentitySourceInvalid' && /auto, workloadIdentity/.test(e.message));
  });
});

describe('endpoint variables', () => {
  it('refuses a malformed endpoint without repeating credentials it may hold', () => {
    assert.throws(
      () => endpointUrl({ IDENTITY_ENDPOINT: 'ftp://user:hunter2@host/x' }, 'IDENTITY_ENDPOINT'),
      (e: ManagedIdentityError) => e.key === 'EndpointVariableInvalid' && !e.message.includes('hunter2') && e.message.includes('ftp://***@host/x'),
    );
  });
});
