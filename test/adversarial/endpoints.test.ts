/**
 * Hostile endpoints of the token engine: a server that accepts TCP and never
 * speaks TLS ends every undici path (Service Fabric's pinned connection,
 * workload identity's Entra exchange, Resource Manager, Key Vault) within
 * the deadline, and an IMDS that answers 410 with Retry-After: 0 gets a
 * handful of requests from the packaged task, not a flood.
 */
import { strict as assert } from 'node:assert';
import { acquireToken } from '../../src/core/acquire';
import { parseAudience } from '../../src/core/audience';
import { ManagedIdentityError } from '../../src/core/errors';
import { closeHttpAgents } from '../../src/core/http';
import { closeNetworkDispatchers } from '../../src/core/network';
import { getWithToken } from '../../src/core/rest';
import { behave, HostileServer, startHostileServer, startSilentServer } from './hostile-server';
import { HANDLERS, runPackaged } from './packaged';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The deadline of these runs, and a generous bound on their wall time: well below undici's 10 s connect timeout that held them before. */
const DEADLINE_SECONDS = 1;
const DID_NOT_OVERRUN_MS = 6000;

/** A federated token file for workload identity (its content is never checked: nothing answers). */
function federatedTokenFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'federated-')), 'token');
  writeFileSync(file, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.');
  return file;
}

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; outcome: T | unknown }> {
  const started = Date.now();
  const outcome = await run().catch((e: unknown) => e);
  return { ms: Date.now() - started, outcome };
}

describe('adversarial: a server that accepts TCP and never speaks TLS', function () {
  this.timeout(30_000);
  let silent: HostileServer;
  beforeEach(async () => (silent = await startSilentServer()));
  afterEach(async () => {
    await silent.stop();
    await Promise.all([closeHttpAgents(), closeNetworkDispatchers()]);
  });

  for (const [path, env] of [
    ["Service Fabric's pinned connection", () => ({ IDENTITY_ENDPOINT: `${silent.url}/metadata/identity/oauth2/token`, IDENTITY_HEADER: 'secret-header', IDENTITY_SERVER_THUMBPRINT: 'A'.repeat(40) })],
    [
      "workload identity's Entra exchange",
      () => ({ AZURE_AUTHORITY_HOST: silent.url, AZURE_TENANT_ID: 'aaaabbbb-0000-cccc-1111-dddd2222eeee', AZURE_CLIENT_ID: '5e0b5b3c-6d2e-4f1a-9c3b-1b8f0c2d3e4f', AZURE_FEDERATED_TOKEN_FILE: federatedTokenFile() }),
    ],
  ] as const) {
    it(`ends ${path} within timeoutSeconds: the handshake counts against the deadline`, async () => {
      const { ms, outcome } = await timed(() => acquireToken({ audience: parseAudience('AzureResourceManager'), env: env(), timeoutSeconds: DEADLINE_SECONDS }));
      assert.ok(ms < DID_NOT_OVERRUN_MS, `took ${ms} ms with timeoutSeconds ${DEADLINE_SECONDS}`);
      assert.ok(outcome instanceof ManagedIdentityError, String(outcome));
    });
  }

  for (const what of ['Resource Manager', 'Key Vault']) {
    it(`ends a ${what} call within its deadline`, async () => {
      const url = what === 'Key Vault' ? `${silent.url}/secrets?api-version=7.4` : `${silent.url}/subscriptions?api-version=2022-12-01`;
      const { ms, outcome } = await timed(() => getWithToken(url, 'not-a-token', what, { timeoutSeconds: DEADLINE_SECONDS }));
      assert.ok(ms < DID_NOT_OVERRUN_MS, `took ${ms} ms with a ${DEADLINE_SECONDS} s deadline`);
      assert.ok(outcome instanceof ManagedIdentityError, String(outcome));
    });
  }
});

describe('adversarial: the packaged token task against a server that never speaks TLS', function () {
  this.timeout(60_000);
  let silent: HostileServer;
  before(async () => (silent = await startSilentServer()));
  after(() => silent.stop());

  for (const [handler, node] of HANDLERS) {
    for (const [path, env] of [
      ["Service Fabric's pinned connection", () => ({ IDENTITY_ENDPOINT: `${silent.url}/metadata/identity/oauth2/token`, IDENTITY_HEADER: 'secret-header', IDENTITY_SERVER_THUMBPRINT: 'A'.repeat(40) })],
      ['workload identity', () => ({ AZURE_AUTHORITY_HOST: silent.url, AZURE_TENANT_ID: 'aaaabbbb-0000-cccc-1111-dddd2222eeee', AZURE_CLIENT_ID: '5e0b5b3c-6d2e-4f1a-9c3b-1b8f0c2d3e4f', AZURE_FEDERATED_TOKEN_FILE: federatedTokenFile() })],
    ] as const) {
      it(`${handler}: ends by timeoutSeconds on ${path}, not at undici's 10 s connect timeout`, async () => {
        const run = await runPackaged('ManagedIdentityTokenV1', `never-TLS ${path} ${handler}`, {
          nodePath: node,
          inputs: { audience: 'AzureResourceManager', timeoutSeconds: String(DEADLINE_SECONDS) },
          env: env(),
        });
        assert.equal(run.result, 'Failed', run.log);
        // Node's start-up and the task's own work on a loaded machine on top of the 1 s deadline: still well below 10 s.
        assert.ok(run.durationMs < 8000, `the step took ${run.durationMs} ms with timeoutSeconds ${DEADLINE_SECONDS}`);
      });
    }
  }
});

describe('adversarial: IMDS answering 410 with Retry-After: 0', function () {
  this.timeout(60_000);
  let imds: HostileServer;
  before(async () => (imds = await startHostileServer(behave.gone())));
  after(() => imds.stop());

  for (const [handler, node] of HANDLERS) {
    it(`${handler}: the packaged task waits at least its back-off between attempts: a handful of requests in timeoutSeconds, not thousands`, async () => {
      const before = imds.requests.length;
      const run = await runPackaged('ManagedIdentityTokenV1', `410 Retry-After 0 ${handler}`, {
        nodePath: node,
        inputs: { audience: 'AzureResourceManager', timeoutSeconds: '4' },
        env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.url },
      });
      assert.equal(run.result, 'Failed', run.log);
      const requests = imds.requests.length - before;
      // Back-off 1, 2 s (jittered by 20 %) within 4 s: 3 attempts, 4 at the very most.
      assert.ok(requests >= 2 && requests <= 4, `${requests} requests`);
    });
  }
});
