/**
 * Conformance: Microsoft's client libraries against the emulator, for every
 * source the emulator serves and every identity kind each client supports
 * (msal-node's ManagedIdentityApplication, @azure/identity's
 * ManagedIdentityCredential and DefaultAzureCredential, Python
 * azure-identity's ManagedIdentityCredential). Each client runs all its cases
 * in one process (test/helpers/clients.ts), inside a network namespace of its
 * own where 169.254.169.254 and the emulator's ports lead to the emulator, so
 * nothing a client does can leave the machine. Where namespaces cannot be
 * made, the cases that need the well-known address are skipped loudly and
 * the others run on loopback.
 *
 * Expectations come from the clients' sources (msal-node 7.2
 * src/client/ManagedIdentitySources, @azure/identity 4.14
 * credentials/managedIdentityCredential, azure-identity 1.13
 * azure/identity/_credentials) and from what each service answers.
 */
import { strict as assert } from 'node:assert';
import { arcAnnounceFolder, arcTokenFolder, AzureEmulator } from '../../emulator';
import {
  ARC_KEY_FOLDER,
  arcFolderUnavailable,
  azurePython,
  ClientResult,
  netnsUnavailable,
  node24,
  NodeClientCase,
  NodeClientName,
  packageVersion,
  PythonCase,
  RunOptions,
  runNodeClient,
  runPythonIdentity,
} from '../helpers/clients';
import { useEmulator } from '../helpers/emulator';
import {
  check,
  EMULATOR_OPTIONS,
  emulatorBridges,
  Expectation,
  IdentityKind,
  KINDS,
  selectorOf,
  SOURCE_TITLES,
  SourceKey,
  sourceEnvOf,
  target,
} from './matrix';

const RESOURCE = 'https://management.azure.com';
type Table = Partial<Record<SourceKey, Partial<Record<IdentityKind, Expectation>>>>;

const token = (identity: 'system' | 'user', why?: string): Expectation => ({ expect: { identity }, why });
const refused = (pattern: RegExp, why?: string): Expectation => ({ expect: { refused: pattern }, why });
const each = (e: (kind: IdentityKind) => Expectation): Partial<Record<IdentityKind, Expectation>> =>
  Object.fromEntries(KINDS.map((k) => [k, e(k)]));
const userKinds = (system: Expectation, user: Expectation, unknown: Expectation) => each((k) => (k === 'system' ? system : k === 'unknownClientId' ? unknown : user));

const IMDS_NOT_FOUND = refused(/Identity not found/);
const APP_SERVICE_NOT_FOUND = refused(/Unable to load the proper Managed Identity/);
const MSAL_2017 = 'msal reads MSI_ENDPOINT + MSI_SECRET as Azure Machine Learning, whose expires_on is epoch seconds; the App Service date string is read as expiring now';

/** msal-node's ManagedIdentityApplication; @azure/identity's ManagedIdentityCredential differs where noted. */
function msalTable(identityLibrary: boolean): Table {
  const onlyClientId = refused(/Only client id is supported for user-assigned managed identity in MachineLearning/, 'by design: msal supports only a client ID on Azure ML');
  return {
    imds: userKinds(token('system'), token('user'), IMDS_NOT_FOUND),
    imdsWellKnown: userKinds(token('system'), token('user'), IMDS_NOT_FOUND),
    appService: userKinds(token('system'), token('user'), APP_SERVICE_NOT_FOUND),
    appService2017: {
      system: { expect: { identity: 'system', expiry: 'readAsNow' }, why: MSAL_2017 },
      clientId: { expect: { identity: 'user', expiry: 'readAsNow' }, why: MSAL_2017 },
      objectId: onlyClientId,
      resourceId: onlyClientId,
      unknownClientId: APP_SERVICE_NOT_FOUND,
    },
    azureML: { system: token('system'), clientId: token('user'), objectId: onlyClientId, resourceId: onlyClientId, unknownClientId: APP_SERVICE_NOT_FOUND },
    cloudShell: userKinds(
      token('system'),
      identityLibrary
        ? refused(/Specifying a user-assigned managed identity is not supported for CloudShell/, 'by design')
        : refused(/Cloud Shell Managed Identities can only be system assigned/, 'by design'),
      identityLibrary ? refused(/not supported for CloudShell/, 'by design') : refused(/can only be system assigned/, 'by design'),
    ),
    serviceFabric: identityLibrary
      ? userKinds(token('system'), refused(/not supported by the Service Fabric managed identity environment/, 'by design'), refused(/Service Fabric/, 'by design'))
      : userKinds(token('system'), token('system', "msal only warns: the cluster's configuration picks the identity"), token('system', 'msal only warns')),
    azureArc: userKinds(
      { ...token('system', 'key file at /var/opt/azcmagent/tokens, in an own mount namespace'), needsArcFolder: true },
      { ...token('user', 'msal 7.2 sends the selector and checks the answer names it'), needsArcFolder: true },
      { ...refused(/not found/i), needsArcFolder: true },
    ),
    ...(identityLibrary
      ? {
          workloadIdentity: userKinds(
            token('user', 'the token exchange uses AZURE_CLIENT_ID'),
            token('user', 'the token exchange names the identity by client ID only: objectId and resourceId are ignored, AZURE_CLIENT_ID decides'),
            refused(/AADSTS700016/),
          ),
        }
      : {}),
  };
}

/** DefaultAzureCredential where it picks managed identity (it has no object ID option). */
const DEFAULT_TABLE: Table = {
  imds: { system: token('system'), clientId: token('user'), resourceId: token('user'), unknownClientId: refused(/Identity not found/) },
  imdsWellKnown: { system: token('system', 'after its IMDS probe'), clientId: token('user') },
  appService: { system: token('system'), clientId: token('user'), resourceId: token('user') },
  appService2017: { system: { expect: { identity: 'system', expiry: 'readAsNow' }, why: MSAL_2017 } },
  cloudShell: { system: token('system') },
  serviceFabric: { system: token('system') },
  azureArc: { system: { ...token('system'), needsArcFolder: true } },
  workloadIdentity: { system: token('user', 'WorkloadIdentityCredential, instance discovery off') },
};

const PY_SYSTEM_IGNORED = 'azure-identity 1.13 passes the parameter on and the service ignores it: the system-assigned token';
/** Python azure-identity 1.13's ManagedIdentityCredential. */
const PYTHON_TABLE: Table = {
  imds: userKinds(token('system'), token('user'), refused(/requested identity has not been assigned/)),
  imdsWellKnown: userKinds(token('system'), token('user'), refused(/requested identity has not been assigned/)),
  appService: userKinds(token('system'), token('user'), APP_SERVICE_NOT_FOUND),
  appService2017: {
    system: token('system'),
    clientId: token('user'),
    objectId: token('system', PY_SYSTEM_IGNORED),
    resourceId: token('system', PY_SYSTEM_IGNORED),
    unknownClientId: APP_SERVICE_NOT_FOUND,
  },
  azureML: { system: token('system', 'azure-identity 1.13 does not read DEFAULT_IDENTITY_CLIENT_ID'), clientId: token('user') },
  cloudShell: each((k) => (k === 'system' ? token('system') : token('system', 'azure-identity 1.13 does not refuse a user-assigned identity in Cloud Shell; Cloud Shell ignores it'))),
  serviceFabric: each((k) => token('system', k === 'system' ? undefined : "the cluster's configuration picks the identity; the parameter is ignored")),
  azureArc: userKinds(token('system'), refused(/not supported by Azure Arc/, 'by design in 1.13'), refused(/not supported by Azure Arc/, 'by design in 1.13')),
  workloadIdentity: userKinds(
    token('user', 'AZURE_CLIENT_ID'),
    token('user', 'the token exchange names the identity by client ID only'),
    refused(/AADSTS700016/),
  ),
};

/** The identity_config parameter each Python case passes: what that host's protocol calls it. */
function pythonSelector(source: SourceKey, kind: IdentityKind, emu: AzureEmulator): Pick<PythonCase, 'clientId' | 'identityConfig'> {
  const t = target(emu);
  const app = source === 'appService';
  switch (kind) {
    case 'system':
      return {};
    case 'clientId':
      return { clientId: t.clientId };
    case 'unknownClientId':
      return { clientId: selectorOf(emu, kind)!.clientId };
    case 'objectId':
      return { identityConfig: { [app ? 'principal_id' : 'object_id']: t.objectId } };
    case 'resourceId':
      return { identityConfig: { [app ? 'mi_res_id' : 'msi_res_id']: t.resourceId } };
  }
}

const caseId = (source: SourceKey, kind: IdentityKind) => `${source}/${kind}`;

/**
 * Registers one client's cases: one run of all of them before, one test per
 * case after. `runAll` gets the cases that can run here.
 */
function conformance(
  title: string,
  table: Table,
  prerequisite: () => Promise<string | undefined>,
  runAll: (emu: AzureEmulator, cases: Array<{ source: SourceKey; kind: IdentityKind }>, sandbox: Pick<RunOptions, 'netns' | 'arcKeyFolder'>) => Promise<ClientResult[]>,
): void {
  describe(title, function () {
    this.timeout(300_000);
    let results = new Map<string, ClientResult>();
    let missing: string | undefined;
    let noNetns: string | undefined;
    let noArcFolder: string | undefined;
    let emu: AzureEmulator;
    useEmulator(EMULATOR_OPTIONS, (e) => void (emu = e), { once: true });

    before(async function () {
      missing = await prerequisite();
      if (missing) {
        console.warn(`    SKIPPED: ${title}: ${missing}`);
        return;
      }
      noNetns = await netnsUnavailable();
      if (noNetns) console.warn(`    SKIPPED: the cases at ${SOURCE_TITLES.imdsWellKnown}: ${noNetns}; the others run on loopback.`);
      noArcFolder = await arcFolderUnavailable();
      if (noArcFolder) console.warn(`    SKIPPED: the Azure Arc cases that need the key folder at ${ARC_KEY_FOLDER}: ${noArcFolder}.`);
      else arcAnnounceFolder(emu, ARC_KEY_FOLDER);
      const cases = Object.entries(table).flatMap(([source, kinds]) =>
        Object.keys(kinds ?? {}).map((kind) => ({ source: source as SourceKey, kind: kind as IdentityKind })),
      );
      const runnable = cases.filter((c) => (!noNetns || c.source !== 'imdsWellKnown') && (!noArcFolder || !table[c.source]?.[c.kind]?.needsArcFolder));
      const sandbox = { netns: noNetns ? undefined : emulatorBridges(emu), arcKeyFolder: noArcFolder ? undefined : arcTokenFolder(emu) };
      results = new Map((await runAll(emu, runnable, sandbox)).map((r) => [r.id, r]));
    });

    it('every request the client made found its route (none answered "no route")', function () {
      if (missing) this.skip();
      assert.deepEqual(emu.requests.filter((r) => r.route === 'unmatched').map((r) => `${r.method} ${r.url.split('?')[0]}`), []);
    });

    for (const [source, kinds] of Object.entries(table) as Array<[SourceKey, Table[SourceKey]]>) {
      for (const [kind, expectation] of Object.entries(kinds ?? {}) as Array<[IdentityKind, Expectation]>) {
        const outcome = 'refused' in expectation.expect ? 'is refused' : `gets the ${expectation.expect.identity}-assigned identity's token`;
        it(`${SOURCE_TITLES[source]}, ${kind}: ${outcome}${expectation.why ? ` (${expectation.why})` : ''}`, function () {
          if (missing) this.skip();
          if (source === 'imdsWellKnown' && noNetns) this.skip();
          if (expectation.needsArcFolder && noArcFolder) this.skip();
          check(emu, results.get(caseId(source, kind)), expectation, RESOURCE);
        });
      }
    }
  });
}

function nodeCases(client: NodeClientName, emu: AzureEmulator, cases: Array<{ source: SourceKey; kind: IdentityKind }>): NodeClientCase[] {
  return cases.map(({ source, kind }) => ({
    id: caseId(source, kind),
    env: sourceEnvOf(emu, source),
    resource: RESOURCE,
    selector: selectorOf(emu, kind),
    // No retries: every answer here is final, and a refusal should not wait out a back-off.
    options:
      client === 'msal-node'
        ? { disableInternalRetries: true }
        : client === 'ManagedIdentityCredential'
          ? { retryOptions: { maxRetries: 0 } }
          : { disableInstanceDiscovery: true, retryOptions: { maxRetries: 0 } },
    timeoutMs: 30_000,
  }));
}

function nodeConformance(client: NodeClientName, table: Table, pkg: string, needsNode24: boolean): void {
  const node = () => (needsNode24 ? node24().node : process.execPath);
  conformance(
    `${client} (${pkg} ${packageVersion(pkg)}${needsNode24 ? ', under Node 24' : ''}) against the emulator`,
    table,
    async () => (needsNode24 && node24().missing ? `${pkg} needs Node >= 22: ${node24().missing}` : undefined),
    (emu, cases, sandbox) => runNodeClient(client, nodeCases(client, emu, cases), { node: node(), caFile: emu.tls.pemFile, ...sandbox }),
  );
}

describe('conformance: Microsoft client libraries', () => {
  nodeConformance('msal-node', msalTable(false), '@azure/msal-node', false);
  nodeConformance('ManagedIdentityCredential', msalTable(true), '@azure/identity', true);
  nodeConformance('DefaultAzureCredential', DEFAULT_TABLE, '@azure/identity', true);

  let python: { python: string; version: string } | undefined;
  conformance(
    'Python azure-identity ManagedIdentityCredential (the 1.13 that Debian azure-cli brings) against the emulator',
    PYTHON_TABLE,
    async () => {
      python = await azurePython();
      return python ? undefined : "the Azure CLI's Python with azure-identity is not installed: apt-get install azure-cli (.ci/run does)";
    },
    (emu, cases, sandbox) =>
      runPythonIdentity(
        python!.python,
        cases.map(({ source, kind }) => ({ id: caseId(source, kind), env: sourceEnvOf(emu, source), resource: RESOURCE, ...pythonSelector(source, kind, emu) })),
        { caFile: emu.tls.pemFile, ...sandbox },
      ),
  );
});
