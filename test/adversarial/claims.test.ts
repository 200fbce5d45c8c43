/**
 * Forged claims and server text: a token whose claims hold ##vso[ commands,
 * line breaks, NUL and a right-to-left override is printed inert by the
 * packaged token task under each handler and by mi-token --claims.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMiToken } from '../helpers/cli';
import { forgedCommandsIn, watchTokens } from '../helpers/scan';
import { behave, FORGED_COMMANDS, HostileServer, startHostileServer } from './hostile-server';
import { HANDLERS, runPackaged } from './packaged';

/** In claims the task only shows (not the IDs it publishes as variables). */
const FORGED_CLAIMS = { xms_mirid: `${FORGED_COMMANDS[0]} ${FORGED_COMMANDS[4]}`, idtyp: FORGED_COMMANDS[1], azp: `${FORGED_COMMANDS[2]}${FORGED_COMMANDS[3]}` };

function assertInert(label: string, text: string): void {
  assert.deepEqual(forgedCommandsIn([{ label, text }]), []);
  assert.doesNotMatch(text, /^##\[error\]forged/m);
  assert.doesNotMatch(text, /[\u0000\u202e]/);
}

describe('adversarial: forged claims', () => {
  let server: HostileServer;
  before(async () => {
    server = await startHostileServer(behave.token(FORGED_CLAIMS));
  });
  after(() => server.stop());

  for (const [handler, node] of HANDLERS) {
    it(`ManagedIdentityToken under ${handler} prints the claims inert: no forged command is obeyed`, async () => {
      const run = await runPackaged('ManagedIdentityTokenV1', `forged claims ${handler}`, {
        nodePath: node,
        inputs: { audience: 'https://management.azure.com/' },
        env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: server.url },
      });
      assert.equal(run.result, 'Succeeded', run.stdout);
      assert.ok(!run.commands.some((c) => c.command === 'task.prependpath'), 'no prependpath');
      assert.ok(!run.variables.has('PWNED'), 'no forged variable');
      assert.equal(run.commands.filter((c) => c.command === 'task.complete').length, 1);
      assertInert('token task', `${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /##_vso\[task\.setvariable variable=PWNED\]/, 'the claim is shown, made inert');
    });
  }

  it('mi-token --claims writes the claims inert to stderr', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mi-claims-')), 'token');
    const run = await runMiToken(['--claims', '--file', file], { env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: server.url } });
    assert.equal(run.code, 0, run.stderr);
    assert.match(readFileSync(file, 'utf8'), /^eyJ/);
    assertInert('mi-token --claims', run.stderr);
    assert.match(run.stderr, /##_vso\[task\.prependpath\]/);
  });

  for (const [handler, node] of HANDLERS) {
    it(`ManagedIdentityToken under ${handler} registers every segment of a five-segment (encrypted) token for masking`, async () => {
      const segments = ['eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ', ...[40, 22, 120, 22].map((n) => randomBytes(n).toString('base64url'))];
      const token = segments.join('.');
      watchTokens([token]);
      const jwe = await startHostileServer(behave.tokenAnswer(() => token));
      try {
        const run = await runPackaged('ManagedIdentityTokenV1', `five-segment token ${handler}`, {
          nodePath: node,
          inputs: { audience: 'https://management.azure.com/' },
          env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: jwe.url },
        });
        assert.equal(run.result, 'Succeeded', run.log);
        for (const segment of segments.slice(1)) assert.ok(run.secrets.includes(segment), `segment ${segment.slice(0, 8)}… is masked`);
      } finally {
        await jwe.stop();
      }
    });
  }
});
