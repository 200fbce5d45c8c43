/** Azure Arc: the 401 challenge, and the key file path as a security boundary. */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ARC_TOKEN_ROUTE, arcTokenFolder, AzureEmulator, setArcAgent } from '../../../emulator';
import { acquireToken } from '../../../src/core/acquire';
import { ManagedIdentityError } from '../../../src/core/errors';
import { userAssigned } from '../../../src/core/identity';
import { arcTokenFolder as sourceTokenFolder, himdsFile, readArcKeyFile } from '../../../src/core/sources/azure-arc';
import { failure, sourceOptions } from '../../helpers/sources';
import { useEmulator } from '../../helpers/emulator';

const SECRET = 'arc-key-that-must-never-leave-the-machine';

describe('Azure Arc key files', () => {
  let root: string;
  let folder: string;
  let outside: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'arc-test-'));
    folder = join(root, 'tokens');
    outside = join(root, 'elsewhere');
    mkdirSync(folder);
    mkdirSync(outside);
    writeFileSync(join(folder, 'good.key'), `${SECRET}\n`);
    writeFileSync(join(outside, 'stolen.key'), SECRET);
  });

  function refused(realm: string, key = 'ArcKeyFileRefused'): void {
    assert.throws(() => readArcKeyFile(realm, folder), (e: ManagedIdentityError) => e.kind === 'refused' && e.key === key, realm);
  }

  it('reads a .key file directly inside the token folder, trimmed', () => {
    assert.equal(readArcKeyFile(join(folder, 'good.key'), folder), SECRET);
    assert.equal(readArcKeyFile(join(folder, 'good.key'), `${folder}/`), SECRET);
  });

  it('refuses files outside the folder, "..", links out, other extensions, relative paths and folders', () => {
    refused(join(outside, 'stolen.key'));
    refused(`${folder}/../elsewhere/stolen.key`);
    refused(`${folder}/../tokens/good.key`);
    refused(join(folder, 'sub', 'x.key'));
    symlinkSync(join(outside, 'stolen.key'), join(folder, 'link.key'));
    refused(join(folder, 'link.key'));
    writeFileSync(join(folder, 'secret.txt'), SECRET);
    refused(join(folder, 'secret.txt'));
    refused('tokens/good.key');
    mkdirSync(join(folder, 'dir.key'));
    refused(join(folder, 'dir.key'));
    refused(folder);
  });

  it('follows a link that stays inside the folder', () => {
    symlinkSync(join(folder, 'good.key'), join(folder, 'alias.key'));
    assert.equal(readArcKeyFile(join(folder, 'alias.key'), folder), SECRET);
  });

  it('refuses a key file over 4096 bytes, and says when it cannot be read', () => {
    writeFileSync(join(folder, 'big.key'), 'k'.repeat(4097));
    refused(join(folder, 'big.key'), 'ArcKeyFileTooLarge');
    writeFileSync(join(folder, 'max.key'), 'k'.repeat(4096));
    assert.equal(readArcKeyFile(join(folder, 'max.key'), folder).length, 4096);
    refused(join(folder, 'missing.key'), 'ArcKeyFileUnreadable');
  });
});

describe('Azure Arc on Windows (the platform injected, so it runs on any machine)', () => {
  const win = { platform: 'win32' as const };
  const folder = 'C:\\ProgramData\\AzureConnectedMachineAgent\\Tokens';

  it('looks for the tokens and himds.exe under %ProgramData% and %ProgramFiles%, with the Windows defaults', () => {
    assert.equal(sourceTokenFolder({ ProgramData: 'D:\\Data' }, win), 'D:\\Data\\AzureConnectedMachineAgent\\Tokens');
    assert.equal(sourceTokenFolder({}, win), folder);
    assert.equal(himdsFile({ ProgramFiles: 'E:\\Apps' }, win), 'E:\\Apps\\AzureConnectedMachineAgent\\himds.exe');
    assert.equal(himdsFile({}, win), 'C:\\Program Files\\AzureConnectedMachineAgent\\himds.exe');
    assert.equal(sourceTokenFolder({ ProgramData: 'D:\\Data' }, { platform: 'linux' }), '/var/opt/azcmagent/tokens');
    assert.equal(himdsFile({}, { platform: 'linux' }), '/opt/azcmagent/bin/himds');
  });

  it('refuses key files outside the folder, "..", other drives, other extensions and relative paths by Windows path rules', () => {
    for (const realm of [
      `${folder}\\..\\stolen.key`,
      `${folder}\\sub\\a.key`,
      'D:\\ProgramData\\AzureConnectedMachineAgent\\Tokens\\a.key',
      `${folder}\\a.txt`,
      'Tokens\\a.key',
      '\\\\server\\share\\a.key',
    ]) {
      assert.throws(() => readArcKeyFile(realm, folder, 'win32'), (e: ManagedIdentityError) => e.key === 'ArcKeyFileRefused', realm);
    }
  });

  it('accepts the folder in any case and with either slash (it then opens the file, which is missing on this machine)', () => {
    for (const realm of [`${folder}\\abc.key`, 'c:/programdata/azureconnectedmachineagent/tokens/ABC.KEY', `${folder.toUpperCase()}\\x.key`]) {
      assert.throws(() => readArcKeyFile(realm, folder, 'win32'), (e: ManagedIdentityError) => e.key === 'ArcKeyFileUnreadable', realm);
    }
  });

  it('reads a Windows path as relative, and so refuses it, on POSIX', () => {
    assert.throws(() => readArcKeyFile(`${folder}\\abc.key`, folder, 'linux'), (e: ManagedIdentityError) => e.key === 'ArcKeyFileRefused');
  });
});

describe('Azure Arc token source', () => {
  let emu: AzureEmulator;
  useEmulator({}, (e) => {
    emu = e;
  });

  it('answers the 401 challenge with the key file named in the realm, then the key is used up', async () => {
    const result = await acquireToken(sourceOptions(emu, 'azureArc'));
    const [first, second] = emu.received(ARC_TOKEN_ROUTE);
    assert.equal(first.headers.metadata, 'true');
    assert.equal(first.headers.authorization, undefined);
    assert.equal(new URL(first.url, 'http://x').searchParams.get('api-version'), '2020-06-01');
    assert.match(String(second.headers.authorization), /^Basic [\w-]{40,}$/);
    assert.equal(result.token, emu.minted[0].token);
    assert.equal(result.expiresOn.getTime(), (emu.minted[0].claims.exp as number) * 1000);
    assert.deepEqual(readdirSync(arcTokenFolder(emu)), [], 'the key file is gone once used');
  });

  it('is refused by the emulator without the key, as himds does', async () => {
    const res = await fetch(`${emu.url}/arc/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https://vault.azure.net`, { headers: { Metadata: 'true' } });
    assert.equal(res.status, 401);
    const realm = /^Basic realm=(.+)$/.exec(res.headers.get('www-authenticate') ?? '')?.[1] ?? '';
    assert.ok(realm.startsWith(arcTokenFolder(emu)) && realm.endsWith('.key') && existsSync(realm));
    const wrong = await fetch(`${emu.url}/arc/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https://vault.azure.net`, { headers: { Metadata: 'true', Authorization: 'Basic nope' } });
    assert.equal(wrong.status, 401);
  });

  describe('refuses a realm outside the token folder without reading or sending the file', () => {
    let outside: string;
    beforeEach(() => {
      outside = mkdtempSync(join(tmpdir(), 'arc-outside-'));
      writeFileSync(join(outside, 'stolen.key'), SECRET);
      writeFileSync(join(outside, 'big.key'), SECRET);
      writeFileSync(join(arcTokenFolder(emu), 'big.key'), `${SECRET}${'k'.repeat(5000)}`);
      writeFileSync(join(arcTokenFolder(emu), 'notes.txt'), SECRET);
      symlinkSync(join(outside, 'stolen.key'), join(arcTokenFolder(emu), 'link.key'));
      writeFileSync(join(arcTokenFolder(emu), 'crlf.key'), `${SECRET}\r\nX-Injected: 1`);
    });

    for (const [what, realm, key] of [
      ['another folder', (_f: string, o: string) => join(o, 'stolen.key'), 'ArcKeyFileRefused'],
      ['a path with ..', (f: string, o: string) => `${f}/../${basename(o)}/stolen.key`, 'ArcKeyFileRefused'],
      ['a link out of the folder', (f: string) => join(f, 'link.key'), 'ArcKeyFileRefused'],
      ['a file that is not .key', (f: string) => join(f, 'notes.txt'), 'ArcKeyFileRefused'],
      ['a key file over 4096 bytes', (f: string) => join(f, 'big.key'), 'ArcKeyFileTooLarge'],
      ['a key file with a line break inside (header injection)', (f: string) => join(f, 'crlf.key'), 'HeaderValueInvalid'],
    ] as const) {
      it(what, async () => {
        const path = realm(arcTokenFolder(emu), outside);
        emu.faults.script(ARC_TOKEN_ROUTE, { status: 401, headers: { 'WWW-Authenticate': `Basic realm=${path}` } });
        const e = await failure(sourceOptions(emu, 'azureArc'));
        assert.equal(e.key, key);
        assert.equal(emu.received(ARC_TOKEN_ROUTE).length, 1, 'nothing was sent after the challenge');
        assert.ok(!JSON.stringify(emu.requests).includes(SECRET));
      });
    }
  });

  it('says so when a 401 carries no Basic realm challenge', async () => {
    emu.faults.script(ARC_TOKEN_ROUTE, { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } });
    const e = await failure(sourceOptions(emu, 'azureArc'));
    assert.equal(e.key, 'ArcChallengeMissing');
    assert.equal(emu.received(ARC_TOKEN_ROUTE).length, 1);
  });
});

describe('Azure Arc user-assigned identities', () => {
  let emu: AzureEmulator;
  useEmulator({ userAssigned: ['id-a', 'id-b'] }, (e) => {
    emu = e;
  });

  const params = (i: number) => new URL(emu.received(ARC_TOKEN_ROUTE)[i].url, 'http://x').searchParams;

  it('a current agent honours the selector, on the challenged and the authenticated request alike, and the claims confirm it', async () => {
    const target = emu.machine.userAssigned[1];
    const result = await acquireToken(sourceOptions(emu, 'azureArc', { identity: userAssigned('resourceId', target.resourceId) }));
    assert.equal(params(0).get('msi_res_id'), target.resourceId);
    assert.equal(params(1).get('msi_res_id'), target.resourceId);
    assert.equal(params(1).get('mi_res_id'), null);
    assert.equal(result.claims?.oid, target.objectId);
    assert.deepEqual(result.identity, { kind: 'resourceId', id: target.resourceId });
  });

  for (const kind of ['clientId', 'objectId', 'resourceId'] as const) {
    it(`fails closed when a legacy agent ignores a ${kind} selector and answers with the system-assigned identity`, async () => {
      setArcAgent(emu, { version: 'legacy' });
      const target = emu.machine.userAssigned[0];
      const id = { clientId: target.clientId, objectId: target.objectId, resourceId: target.resourceId }[kind];
      const e = await failure(sourceOptions(emu, 'azureArc', { identity: userAssigned(kind, id) }));
      assert.equal(e.kind, 'refused');
      assert.equal(e.key, 'IdentityNotConfirmed');
      assert.ok(e.message.includes(id), e.message);
      const system = emu.machine.systemAssigned!;
      assert.ok(e.message.includes({ clientId: system.clientId, objectId: system.objectId, resourceId: system.resourceId }[kind]), e.message);
      assert.match(e.message, /update the agent \(azcmagent\)/);
      assert.ok(!e.message.includes(emu.minted[0].token));
      assert.equal(emu.received(ARC_TOKEN_ROUTE).length, 2, 'the token was got once, then refused, not retried');
    });
  }

  it('fails closed on a token whose claims cannot be read, whatever the answer echoes', async () => {
    const target = emu.machine.userAssigned[0];
    emu.faults.script(ARC_TOKEN_ROUTE, { status: 200, body: { access_token: 'opaque-token', expires_on: '4102444800', client_id: target.clientId } });
    const e = await failure(sourceOptions(emu, 'azureArc', { identity: userAssigned('clientId', target.clientId) }));
    assert.equal(e.key, 'IdentityNotConfirmed');
    assert.match(e.message, /its claims show nothing: the token is not a readable JWT/);
  });

  /** What the emulated agent answers a raw request with these parameters, after its challenge. */
  async function arcAnswer(query: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const url = `${emu.url}/arc/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https://vault.azure.net&${query}`;
    const challenge = await fetch(url, { headers: { Metadata: 'true' } });
    const realm = /^Basic realm=(.+)$/.exec(challenge.headers.get('www-authenticate') ?? '')?.[1] ?? '';
    const res = await fetch(url, { headers: { Metadata: 'true', Authorization: `Basic ${readFileSync(realm, 'utf8')}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('the emulated agent echoes the selector it honoured, ignores mi_res_id, and a legacy agent echoes nothing it did not honour', async () => {
    const target = emu.machine.userAssigned[0];
    const honoured = await arcAnswer(`object_id=${target.objectId}`);
    assert.equal(honoured.body.object_id, target.objectId);
    assert.equal(honoured.body.client_id, target.clientId);
    const ignored = await arcAnswer(`mi_res_id=${encodeURIComponent(target.resourceId)}`);
    assert.equal(ignored.body.client_id, emu.machine.systemAssigned?.clientId);
    assert.equal(ignored.body.mi_res_id, undefined);
    setArcAgent(emu, { version: 'legacy' });
    const legacy = await arcAnswer(`object_id=${target.objectId}`);
    assert.equal(legacy.status, 200);
    assert.equal(legacy.body.object_id, undefined);
    assert.equal(legacy.body.client_id, emu.machine.systemAssigned?.clientId);
  });

  it('a system-assigned request needs no confirmation, from either agent', async () => {
    setArcAgent(emu, { version: 'legacy' });
    const result = await acquireToken(sourceOptions(emu, 'azureArc'));
    assert.equal(result.claims?.oid, emu.machine.systemAssigned?.objectId);
    assert.equal(params(0).get('client_id'), null);
  });

  it('a current agent answers 400 "The requested identity was not found" for an identity the machine lacks: not retried, with advice', async () => {
    const e = await failure(sourceOptions(emu, 'azureArc', { identity: userAssigned('clientId', '11111111-2222-4333-8444-555555555555') }));
    assert.equal(e.key, 'IdentityNotFound');
    assert.match(e.message, /The requested identity was not found/);
    assert.equal(emu.received(ARC_TOKEN_ROUTE).length, 2);
  });

  it('a not-found answered with 404 (as MSAL describes newer agents) is retried as any 404, then reported as not found', async () => {
    setArcAgent(emu, { notFoundStatus: 404 });
    const retries: string[] = [];
    const e = await failure(
      sourceOptions(emu, 'azureArc', { identity: userAssigned('clientId', '11111111-2222-4333-8444-555555555555'), onRetry: (r) => retries.push(r.reason) }),
    );
    assert.equal(e.key, 'IdentityNotFound');
    assert.ok(retries.length >= 1 && retries.every((r) => r === 'HTTP 404'), retries.join());
  });
});

describe('Azure Arc with the default token folder (/var/opt/azcmagent/tokens), in a mount namespace of its own', () => {
  // Reading the real folder needs it to exist: a child process makes it on a tmpfs that only its namespace sees.
  const usable = process.platform === 'linux' && spawnSync('unshare', ['-m', 'true']).status === 0;

  it('reads the key file from the default folder, with no test hook, for system- and user-assigned requests', function () {
    if (!usable) {
      console.warn('    SKIPPED: needs Linux and mount namespaces (unshare -m, as root) to put a tmpfs over /var/opt.');
      this.skip();
    }
    const fixture = join(__dirname, '..', '..', 'fixtures', 'arc-default-folder.js');
    const script = 'if [ -d /var/opt ]; then t=/var/opt; else t=/var; fi; mount -t tmpfs -o mode=755 tmpfs "$t" && mkdir -p -m 750 /var/opt/azcmagent/tokens && exec "$0" "$1"';
    const run = spawnSync('unshare', ['-m', 'sh', '-c', script, process.execPath, fixture], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    assert.equal(out.ok, true, String(out.error));
    assert.equal(out.source, 'azureArc');
    assert.equal(out.systemOid, out.expectedSystemOid);
    assert.equal(out.userOid, out.expectedUserOid);
    assert.equal(out.requests, 4, 'each token took a challenge and an authenticated request');
    assert.equal(out.keyFilesLeft, 0);
    assert.ok(!existsSync('/var/opt/azcmagent/tokens') || readdirSync('/var/opt/azcmagent/tokens').length === 0, 'nothing was written outside the namespace');
  });
});
