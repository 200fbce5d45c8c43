/** Every token source against the emulator: selection on the wire, refusals before any request, expiry, faults. */
import { strict as assert } from 'node:assert';
import { AzureEmulator } from '../../../emulator';
import { acquireToken } from '../../../src/core/acquire';
import { IdentityIdType, userAssigned } from '../../../src/core/identity';
import { failure, sentParams, SOURCE_CASES, sourceOptions } from '../../helpers/sources';
import { useEmulator } from '../../helpers/emulator';

const KINDS: readonly IdentityIdType[] = ['clientId', 'objectId', 'resourceId'];
const ID_OF: Record<IdentityIdType, (i: { clientId: string; objectId: string; resourceId: string }) => string> = {
  clientId: (i) => i.clientId,
  objectId: (i) => i.objectId,
  resourceId: (i) => i.resourceId,
};

for (const c of SOURCE_CASES) {
  describe(`token source ${c.name}`, () => {
    let emu: AzureEmulator;
    useEmulator({ userAssigned: ['id-a', 'id-b'] }, (e) => {
      emu = e;
    });

    it('gets a token for the default identity, with its expiry read right', async () => {
      const before = Date.now();
      const result = await acquireToken(sourceOptions(emu, c.name));
      const minted = emu.minted[emu.minted.length - 1];
      assert.equal(result.source, c.name);
      assert.equal(result.token, minted.token);
      const exp = (minted.claims.exp as number) * 1000;
      if (c.expiry === 'expires_on') assert.equal(result.expiresOn.getTime(), exp);
      else {
        const lifetime = (exp - (minted.claims.nbf as number) * 1000);
        assert.ok(result.expiresOn.getTime() >= before + lifetime - 1000 && result.expiresOn.getTime() <= Date.now() + lifetime + 1000);
      }
      assert.deepEqual(result.warnings, []);
      const sent = sentParams(emu.received(c.route).at(-1)!, c.paramsIn);
      if (c.name === 'workloadIdentity') {
        // Workload identity always names a client: AZURE_CLIENT_ID.
        assert.equal(sent.get('client_id'), emu.machine.userAssigned[0].clientId);
        assert.equal(result.claims?.oid, emu.machine.userAssigned[0].objectId);
      } else {
        for (const p of ['client_id', 'object_id', 'principal_id', 'msi_res_id', 'mi_res_id', 'clientid']) assert.equal(sent.get(p), null, p);
        assert.equal(result.claims?.oid, emu.machine.systemAssigned?.objectId);
      }
    });

    for (const kind of KINDS) {
      const param = c.params[kind];
      if (param) {
        it(`selects a user-assigned identity by ${kind}, sent as ${param}`, async () => {
          const target = emu.machine.userAssigned[1];
          const result = await acquireToken(sourceOptions(emu, c.name, { identity: userAssigned(kind, ID_OF[kind](target)) }));
          assert.equal(sentParams(emu.received(c.route).at(-1)!, c.paramsIn).get(param), ID_OF[kind](target));
          assert.equal(result.claims?.oid, target.objectId);
          assert.deepEqual(result.warnings, []);
        });
      } else {
        it(`refuses a user-assigned identity by ${kind} before any request`, async () => {
          const e = await failure(sourceOptions(emu, c.name, { identity: userAssigned(kind, ID_OF[kind](emu.machine.userAssigned[0])) }));
          assert.equal(e.kind, 'badInput');
          assert.equal(e.key, 'SelectorUnsupported');
          assert.match(e.message, /cannot select a user-assigned identity by/);
          assert.match(e.message, Object.keys(c.params).length ? /identityIdType clientId/ : /identityType systemAssigned/);
          assert.equal(emu.requests.length, 0);
        });
      }
    }

    it('retries 503 and a reset connection, then succeeds', async () => {
      emu.faults.script(c.route, [{ status: 503, body: { error: 'temporarily_unavailable' } }, { reset: true }]);
      const reasons: string[] = [];
      const result = await acquireToken(sourceOptions(emu, c.name, { onRetry: (e) => reasons.push(e.reason) }));
      assert.ok(result.token);
      assert.equal(reasons[0], 'HTTP 503');
      assert.equal(reasons.length, 2);
    });

    it('refuses a body that is not JSON, and one over 1 MB', async () => {
      emu.faults.script(c.route, { status: 200, body: 'access_token=eyJsecret.secret.secret' });
      const notJson = await failure(sourceOptions(emu, c.name));
      assert.equal(notJson.key, 'ResponseNotJson');
      assert.doesNotMatch(notJson.message, /eyJsecret/);
      emu.faults.script(c.route, { status: 200, body: { access_token: 'x'.repeat(1_100_000), expires_on: '1893456000' } });
      assert.equal((await failure(sourceOptions(emu, c.name))).key, 'ResponseTooLarge');
    });

    it('cuts off a hung endpoint with the request timeout, within the deadline', async () => {
      emu.faults.script(c.route, { hang: true }, 10);
      const e = await failure(sourceOptions(emu, c.name, { requestTimeoutMs: 100, timeoutSeconds: 0.4 }));
      assert.equal(e.kind, 'timeout');
    });
  });
}
