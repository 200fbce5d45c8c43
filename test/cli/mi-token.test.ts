/**
 * mi-token end to end: the bundled command (bin/mi-token.js, built by npm
 * test) run as a child process against the emulator, once per token source.
 * A source is one row of SOURCES: its name, the environment that points it
 * at an emulator, its token route and the query parameter of each
 * user-assigned selector it supports.
 *
 * stdout is asserted exactly: the token and one newline for --output token
 * (so "$(mi-token)" is the token), nothing at all with --file.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  APP_SERVICE_LEGACY_TOKEN_ROUTE,
  APP_SERVICE_TOKEN_ROUTE,
  appServiceEnv,
  AzureEmulator,
  CLOUD_SHELL_TOKEN_ROUTE,
  ENTRA_TOKEN_ROUTE,
  IMDS_TOKEN_ROUTE,
  imdsEnv,
  RecordedRequest,
  SERVICE_FABRIC_TOKEN_ROUTE,
  sourceEnv,
} from '../../emulator';
import type { EmulatedIdentity } from '../../emulator/identities';
import type { SourceName } from '../../src/core/sources/types';
import type { IdentityIdType } from '../../src/core/identity';
import { usage } from '../../src/cli/args';
import { CLI_BIN, ROOT } from '../../scripts/paths';
import { handlerNode, handlerNodeMissing } from '../../scripts/vsix';
import { runMiToken } from '../helpers/cli';
import { recordOutput } from '../helpers/scan';
import { useEmulator, withEmulator } from '../helpers/emulator';

interface SourceCase {
  name: SourceName;
  route: string;
  /** The query parameter of each user-assigned selector the source supports. */
  selectors: Partial<Record<IdentityIdType, string>>;
  /** Where the request carries its parameters: the query (default) or a form body. */
  params?: 'form';
  /** The resource the request asked for (the resource parameter by default). */
  resourceOf?(req: RecordedRequest): string | null;
  /** The expiry comes as expires_in (seconds from now), so it is known to the second, not from the token. */
  relativeExpiry?: true;
  /** The identity a request without a selector gets (default: the system-assigned one). */
  identity?(emu: AzureEmulator): EmulatedIdentity;
}

const query = (req: RecordedRequest, name: string) => new URL(req.url, 'http://x').searchParams.get(name);
const form = (req: RecordedRequest, name: string) => new URLSearchParams(req.body).get(name);

/** Azure Arc is left out: its token folder can only be moved by an in-process test hook, never from a command line. */
const SOURCES: SourceCase[] = [
  { name: 'imds', route: IMDS_TOKEN_ROUTE, selectors: { clientId: 'client_id', objectId: 'object_id', resourceId: 'msi_res_id' } },
  { name: 'appService', route: APP_SERVICE_TOKEN_ROUTE, selectors: { clientId: 'client_id', objectId: 'principal_id', resourceId: 'mi_res_id' } },
  { name: 'appServiceLegacy', route: APP_SERVICE_LEGACY_TOKEN_ROUTE, selectors: { clientId: 'clientid' } },
  { name: 'cloudShell', route: CLOUD_SHELL_TOKEN_ROUTE, selectors: {}, params: 'form' },
  { name: 'serviceFabric', route: SERVICE_FABRIC_TOKEN_ROUTE, selectors: {} },
  {
    name: 'workloadIdentity',
    route: ENTRA_TOKEN_ROUTE,
    selectors: { clientId: 'client_id' },
    params: 'form',
    resourceOf: (req) => form(req, 'scope')?.replace(/\/\.default$/, '') ?? null,
    identity: (emu) => emu.machine.userAssigned[0],
    relativeExpiry: true,
  },
];

const AZURE_DEVOPS = '499b84ac-1321-427f-aa17-267ca6975798';
const USAGE_FIRST_LINE = usage().split('\n')[0];
const SELECTOR_OPTION: Record<IdentityIdType, string> = { clientId: '--client-id', objectId: '--object-id', resourceId: '--resource-id' };

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mi-token-'));
}

describe('the bundled mi-token', () => {
  before(function () {
    if (!existsSync(CLI_BIN)) throw new Error(`${CLI_BIN} is missing: npm test builds it (scripts/build.ts buildCli) first.`);
  });

  for (const source of SOURCES) {
    describe(`mi-token on ${source.name}`, () => {
      let emu: AzureEmulator;
      let env: Record<string, string>;
      let id: EmulatedIdentity;
      const run = (args: string[]) => runMiToken(args, { env, emu });
      const param = (req: RecordedRequest, name: string) => (source.params === 'form' ? form(req, name) : query(req, name));
      /** The expiry the command should print: the token's, or for expires_in sources, within 2 s of it. */
      const expiry = (minted: { claims: Record<string, unknown> }, printed: string) => {
        const fromToken = (minted.claims.exp as number) * 1000;
        return source.relativeExpiry && Math.abs(Date.parse(printed) - fromToken) <= 2000 ? printed : new Date(fromToken).toISOString();
      };

      useEmulator({ userAssigned: ['agent-pool', 'other'] }, (e) => {
        emu = e;
        env = sourceEnv(emu, source.name);
        id = source.identity?.(emu) ?? emu.machine.systemAssigned!;
      });

      for (const sourceArgs of [[], ['--source', 'auto'], ['--source', source.name]]) {
        it(`prints exactly the Azure DevOps token and a newline on stdout (${sourceArgs.join(' ') || 'no --source'})`, async () => {
          const r = await run(sourceArgs);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout, `${emu.minted[0].token}\n`);
          assert.equal(r.stderr, '');
          const [req] = emu.received(source.route);
          assert.equal(source.resourceOf ? source.resourceOf(req) : param(req, 'resource'), AZURE_DEVOPS);
        });
      }

      it('prints JSON with the token, expiry and identity', async () => {
        const r = await run(['--output', 'json', '--audience', 'AzureResourceManager']);
        assert.equal(r.code, 0, r.stderr);
        const minted = emu.minted[0];
        assert.ok(r.stdout.endsWith('}\n') && r.stdout.split('\n').length === 2, 'one line of JSON');
        const printed = JSON.parse(r.stdout) as { expiresOn: string };
        assert.deepEqual(printed, {
          token: minted.token,
          expiresOn: expiry(minted, printed.expiresOn),
          tenantId: emu.machine.tenantId,
          objectId: id.objectId,
          clientId: id.clientId,
        });
        // Entra ID's v2 endpoint takes a scope, so its tokens name the resource without the slash.
        assert.equal(String(minted.claims.aud).replace(/\/$/, ''), 'https://management.azure.com');
      });

      it('prints export lines that a shell can eval', async () => {
        const r = await run(['--output', 'env']);
        assert.equal(r.code, 0, r.stderr);
        const minted = emu.minted[0];
        const expires = expiry(minted, /MI_TOKEN_EXPIRES_ON='([^']+)'/.exec(r.stdout)?.[1] ?? '');
        assert.equal(
          r.stdout,
          [
            `export MI_TOKEN='${minted.token}'`,
            `export MI_TOKEN_EXPIRES_ON='${expires}'`,
            `export MI_TENANT_ID='${emu.machine.tenantId}'`,
            `export MI_OBJECT_ID='${id.objectId}'`,
            `export MI_CLIENT_ID='${id.clientId}'`,
            '',
          ].join('\n'),
        );
        // The shell compares the token itself, so it is never printed.
        const script = 'eval "$1"; [ "$MI_TOKEN" = "$EXPECTED" ] && printf "%s %s" "$MI_OBJECT_ID" "$MI_TOKEN_EXPIRES_ON"';
        const shown = execFileSync('sh', ['-c', script, 'sh', r.stdout], { env: { PATH: process.env.PATH, EXPECTED: minted.token }, encoding: 'utf8' });
        recordOutput('sh: eval of mi-token --output env', shown, emu);
        assert.equal(shown, `${id.objectId} ${expires}`);
      });

      it('prints PowerShell $env: lines and cmd set lines with the same values', async () => {
        const pwsh = await run(['--output', 'pwsh']);
        assert.equal(pwsh.code, 0, pwsh.stderr);
        const env = await run(['--output', 'env']);
        const [pwshToken, envToken] = [emu.minted.at(-2)!.token, emu.minted.at(-1)!.token];
        const values = (text: string, token: string) => text.replace(token, '<token>').replace(/T\d\d:\d\d:\d\d\.000Z/, '<time>');
        assert.equal(
          values(pwsh.stdout, pwshToken),
          values(env.stdout, envToken)
            .split('\n')
            .map((l) => l.replace(/^export (\w+)=/, '$$env:$1 = '))
            .join('\n'),
        );
        const cmd = await run(['--output', 'cmd']);
        assert.equal(cmd.code, 0, cmd.stderr);
        assert.equal(
          values(cmd.stdout, emu.minted.at(-1)!.token),
          values(env.stdout, envToken)
            .split('\n')
            .map((l) => l.replace(/^export (\w+)='(.*)'$/, 'set "$1=$2"'))
            .join('\r\n'),
        );
      });

      for (const [kind, name] of Object.entries(source.selectors) as Array<[IdentityIdType, string]>) {
        it(`selects a user-assigned identity with ${SELECTOR_OPTION[kind]} (${name} on the wire)`, async () => {
          const target = emu.machine.userAssigned[1];
          const r = await run([SELECTOR_OPTION[kind], target[kind], '--output', 'json']);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(param(emu.received(source.route)[0], name), target[kind]);
          assert.equal((JSON.parse(r.stdout) as { objectId: string }).objectId, target.objectId);
        });
      }

      it('prints the decoded claims to stderr with --claims, never the token', async () => {
        const r = await run(['--claims']);
        assert.equal(r.code, 0, r.stderr);
        const minted = emu.minted[0];
        assert.equal(r.stdout, `${minted.token}\n`);
        for (const claim of ['aud', 'iss', 'tid', 'oid', '(appid|azp)', 'exp']) assert.match(r.stderr, new RegExp(`^  ${claim} `, 'm'));
        assert.match(r.stderr, new RegExp(`^  oid +${id.objectId}$`, 'm'));
        assert.ok(!r.stderr.includes(minted.token.split('.')[1]), 'no token segment on stderr');
      });

      it('says each retry on stderr, one line each, and still prints only the token', async () => {
        // Retry-After: 0 still waits the back-off (about 1 s, jittered): one retry keeps the test short.
        emu.faults.script(source.route, { status: 429, headers: { 'Retry-After': '0' }, body: { error: 'too_many_requests' } });
        const r = await run([]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `${emu.minted[0].token}\n`);
        const lines = r.stderr.trimEnd().split('\n');
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0], new RegExp(`^mi-token: attempt 1 at ${source.name} failed \\(HTTP 429\\); retrying in (0\\.[89]|1\\.[0-2]) s\\.$`));
      });

      describe('--file', () => {
        it('writes the token alone with mode 0600 and prints nothing', async () => {
          const dir = tempDir();
          const file = join(dir, 'token');
          const r = await run(['--file', file]);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout, '');
          assert.equal(r.stderr, '');
          assert.equal(readFileSync(file, 'utf8'), emu.minted[0].token);
          assert.equal(statSync(file).mode & 0o777, 0o600);
          assert.deepEqual(readdirSync(dir), ['token']);
        });

        it('replaces an existing file atomically, leaving no temporary file', async () => {
          const dir = tempDir();
          const file = join(dir, 'agent.env');
          writeFileSync(file, 'export MI_TOKEN=old\n');
          chmodSync(file, 0o644);
          const before = statSync(file).ino;
          const r = await run(['--file', file, '--output', 'env']);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout, '');
          const content = readFileSync(file, 'utf8');
          assert.ok(content.startsWith(`export MI_TOKEN='${emu.minted[0].token}'\n`));
          assert.equal(statSync(file).mode & 0o777, 0o600);
          assert.notEqual(statSync(file).ino, before, 'a new file renamed into place, not the old one rewritten');
          assert.deepEqual(readdirSync(dir), ['agent.env']);
        });

        it('fails with exit 1 and advice when the folder does not exist', async () => {
          const dir = tempDir();
          const r = await run(['--file', join(dir, 'missing', 'token')]);
          assert.equal(r.code, 1);
          assert.equal(r.stdout, '');
          assert.match(r.stderr, /^mi-token: could not write .*missing\/token .*Check that its folder exists and is writable\.\n$/);
          assert.deepEqual(readdirSync(dir), []);
        });
      });

      for (const [what, args, pattern] of [
        ['an unknown option', ['--token-type', 'bearer'], /^mi-token: Unknown option '--token-type'/],
        ['a stray argument', ['AzureDevOps'], /^mi-token: Unexpected argument 'AzureDevOps'/],
        ['an option without its value', ['--audience'], /^mi-token: Option '--audience <value>' argument missing/],
        ['two identity selectors', ['--client-id', '11111111-2222-4333-8444-555555555555', '--object-id', '11111111-2222-4333-8444-555555555555'], /--client-id and --object-id exclude each other/],
        ['an option given twice', ['--audience', 'KeyVault', '--audience', 'Storage'], /--audience is given more than once/],
        ['a client ID that is not a GUID', ['--client-id', 'agent-pool'], /^mi-token: --client-id: identityId 'agent-pool' is not a GUID/],
        ['a malformed audience', ['--audience', 'management.azure.com'], /^mi-token: The audience 'management.azure.com' is not a resource URI.*Example/],
        ['an unknown source', ['--source', 'carrier-pigeon'], /^mi-token: --source: identitySource 'carrier-pigeon' is not one of: auto, /],
        ['an unknown cloud', ['--cloud', 'AzureGermanCloud'], /^mi-token: --cloud 'AzureGermanCloud' is not one of: AzureCloud, /],
        ['an unknown output', ['--output', 'yaml'], /^mi-token: --output 'yaml' is not one of: token, json, env, pwsh, cmd/],
        ['a bad timeout', ['--timeout', '1.5'], /^mi-token: --timeout: timeoutSeconds '1.5' is not a positive whole number/],
      ] as const) {
        it(`exits 2 with the usage on ${what}, before any request`, async () => {
          const r = await run([...args]);
          assert.equal(r.code, 2, r.stderr);
          assert.equal(r.stdout, '');
          const [message, blank, first] = r.stderr.split('\n');
          assert.match(message, pattern);
          assert.equal(blank, '');
          assert.equal(first, USAGE_FIRST_LINE);
          assert.equal(emu.requests.length, 0);
        });
      }

      it('exits 3 with the "not on an Azure host" advice when nothing listens', async () => {
        await emu.stop();
        // IMDS is probed and given up on at once; the other hosts' endpoints are named by their
        // environment, so a refused connection is retried until the deadline.
        const r = await run(source.name === 'imds' ? [] : ['--timeout', '2']);
        assert.equal(r.code, 3, r.stderr);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, /(^|\n)mi-token: No managed identity endpoint answered .*a self-hosted agent on a VM or scale set.*\n$/);
      });

      const refusals: Array<readonly [string, readonly string[], RegExp]> = [];
      // Service Fabric answers an unknown audience with a 500, which is retried like any server error.
      if (source.name !== 'serviceFabric') {
        refusals.push(['an audience the tenant does not know', ['--audience', 'api://nobody-registered-this'], /^mi-token: .*(does not know the audience 'api:\/\/nobody-registered-this'|AADSTS500011)/]);
      }
      if (source.selectors.clientId) {
        const notFound = source.name === 'workloadIdentity' ? /^mi-token: .*AADSTS/ : /^mi-token: .*Enable a system-assigned identity/;
        refusals.push(['an identity that is not found', ['--client-id', '0f0f0f0f-1111-4222-8333-444444444444'], notFound]);
      } else {
        it('exits 2 on a selector this host cannot use, before any request', async () => {
          const r = await run(['--client-id', emu.machine.userAssigned[1].clientId]);
          assert.equal(r.code, 2, r.stderr);
          assert.equal(r.stdout, '');
          assert.equal(emu.requests.length, 0);
        });
      }
      for (const [what, args, pattern] of refusals) {
        it(`exits 4 on ${what}`, async () => {
          const r = await run([...args]);
          assert.equal(r.code, 4, r.stderr);
          assert.equal(r.stdout, '');
          assert.match(r.stderr, pattern);
          assert.equal(r.stderr.split('\n').length, 2, 'one line');
        });
      }

      it('exits 4 on an answer that is not a token', async () => {
        emu.faults.script(source.route, { status: 200, body: { token_type: 'Bearer' } });
        const r = await run([]);
        assert.equal(r.code, 4, r.stderr);
        assert.match(r.stderr, /without an access_token/);
      });

      it('exits 5 when the endpoint hangs past --timeout', async () => {
        emu.faults.script(source.route, { hang: true }, 10);
        const r = await run(['--timeout', '1']);
        assert.equal(r.code, 5, r.stderr);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, /^mi-token: The managed identity endpoint .* did not answer within 1 seconds/);
      });
    });
  }

  describe('mi-token on a host without the forced endpoint', () => {
    it('exits 3 with what the host lacks, without the usage, before any request', async () => {
      await withEmulator({}, async (emu) => {
        for (const [source, lacks] of [['appService', /IDENTITY_ENDPOINT and IDENTITY_HEADER/], ['workloadIdentity', /AZURE_FEDERATED_TOKEN_FILE/]] as const) {
          const r = await runMiToken(['--source', source], { env: imdsEnv(emu), emu });
          assert.equal(r.code, 3, r.stderr);
          assert.equal(r.stdout, '');
          assert.match(r.stderr, new RegExp(`^mi-token: identitySource is ${source}, but the agent's environment lacks .*\n$`));
          assert.match(r.stderr, lacks);
          assert.ok(!r.stderr.includes(USAGE_FIRST_LINE), 'no usage: the options were right');
        }
        assert.equal(emu.requests.length, 0);
      });
    });
  });

  describe('mi-token on a host whose endpoint variables are malformed', () => {
    it('exits 3 naming the variable, without the usage and without its value, before any request', async () => {
      await withEmulator({ userAssigned: ['aks-agent'] }, async (emu) => {
        const cases = [
          [{ AZURE_POD_IDENTITY_AUTHORITY_HOST: `${emu.url}/?x=1` }, /AZURE_POD_IDENTITY_AUTHORITY_HOST/],
          [{ ...appServiceEnv(emu), IDENTITY_HEADER: 'abc\r\nX-Injected: 1' }, /IDENTITY_HEADER/],
          // Any host set-up error exits 3 by its kind, not by a list of keys (this one was on no such list).
          [{ ...sourceEnv(emu, 'workloadIdentity'), AZURE_AUTHORITY_HOST: 'http://login.microsoftonline.invalid' }, /AZURE_AUTHORITY_HOST is 'http:\/\/login\.microsoftonline\.invalid', not an https URL/],
        ] as const;
        for (const [env, names] of cases) {
          const r = await runMiToken([], { env: { ...env }, emu });
          assert.equal(r.code, 3, r.stderr);
          assert.equal(r.stdout, '');
          assert.match(r.stderr, names);
          assert.ok(!r.stderr.includes(USAGE_FIRST_LINE), 'no usage: the options were right');
          assert.ok(!r.stderr.includes('X-Injected'), 'never the value');
        }
        assert.equal(emu.requests.length, 0);
      });
    });
  });

  describe('mi-token --help and --version', () => {
    it('prints the usage on stdout and exits 0', async () => {
      const r = await runMiToken(['--help']);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, usage());
      assert.equal(r.stderr, '');
    });

    it('prints the package version', async () => {
      const r = await runMiToken(['--version']);
      const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
      assert.equal(r.stdout, `${version}\n`);
      assert.equal(r.code, 0);
    });

    it('runs under Node 20, the oldest the package supports', async function () {
      const node20 = handlerNode('Node20_1');
      const missing = handlerNodeMissing(node20);
      if (missing) {
        console.warn(`    SKIPPED: ${missing}.`);
        this.skip();
      }
      await withEmulator({}, async (emu) => {
        const r = await runMiToken(['--output', 'json'], { env: imdsEnv(emu), emu, node: node20.node });
        assert.equal(r.code, 0, r.stderr);
        assert.equal((JSON.parse(r.stdout) as { token: string }).token, emu.minted[0].token);
      });
    });
  });
});
