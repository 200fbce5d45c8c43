/** mi-token's output formats and secret file, in-process. */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import fs = require('node:fs');
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sinon from 'sinon';
import { claimsText, cmdValue, fileContent, formatOutput, OutputError, powershellQuote, shellQuote } from '../../src/cli/output';
import { SECRET_FILE_MODE, writeSecretFile } from '../../src/core/secret-file';
import type { TokenResult } from '../../src/core/acquire';

/** A token result that is not a JWT (some audiences get opaque tokens). */
const OPAQUE: TokenResult = {
  token: 'opaque-token-value',
  expiresOn: new Date('2030-01-16T05:24:12Z'),
  requestedResource: 'https://example.com',
  source: 'imds',
  sourceLabel: 'IMDS',
  identity: { kind: 'system' },
  clientId: '11111111-2222-4333-8444-555555555555',
  warnings: [],
  endpoint: 'http://127.0.0.1:40342/metadata/identity/oauth2/token',
};

describe('mi-token output', () => {
  it('quotes any value so that sh reads it back unchanged', () => {
    for (const value of ["it's", '$(echo no) `echo no` "y" \\n $HOME', '', "''", 'a\nb']) {
      assert.equal(execFileSync('sh', ['-c', `printf %s ${shellQuote(value)}`], { encoding: 'utf8' }), value);
    }
  });

  it('gives null JSON fields and empty env values when the token names no identity', () => {
    assert.deepEqual(JSON.parse(formatOutput('json', OPAQUE)), {
      token: 'opaque-token-value',
      expiresOn: '2030-01-16T05:24:12.000Z',
      tenantId: null,
      objectId: null,
      clientId: '11111111-2222-4333-8444-555555555555',
    });
    assert.equal(
      formatOutput('env', OPAQUE),
      "export MI_TOKEN='opaque-token-value'\nexport MI_TOKEN_EXPIRES_ON='2030-01-16T05:24:12.000Z'\nexport MI_TENANT_ID=''\nexport MI_OBJECT_ID=''\nexport MI_CLIENT_ID='11111111-2222-4333-8444-555555555555'\n",
    );
  });

  it('gives PowerShell $env: lines in verbatim quotes, and cmd set "NAME=value" lines with CRLF', () => {
    assert.equal(
      formatOutput('pwsh', OPAQUE),
      "$env:MI_TOKEN = 'opaque-token-value'\n$env:MI_TOKEN_EXPIRES_ON = '2030-01-16T05:24:12.000Z'\n$env:MI_TENANT_ID = ''\n$env:MI_OBJECT_ID = ''\n$env:MI_CLIENT_ID = '11111111-2222-4333-8444-555555555555'\n",
    );
    assert.equal(
      formatOutput('cmd', OPAQUE),
      'set "MI_TOKEN=opaque-token-value"\r\nset "MI_TOKEN_EXPIRES_ON=2030-01-16T05:24:12.000Z"\r\nset "MI_TENANT_ID="\r\nset "MI_OBJECT_ID="\r\nset "MI_CLIENT_ID=11111111-2222-4333-8444-555555555555"\r\n',
    );
  });

  it('quotes any value for PowerShell so that nothing in it is code: quotes (typographic ones too) are doubled, $ ` ( ; and line breaks stay literal', () => {
    assert.equal(powershellQuote("it's"), "'it''s'");
    assert.equal(powershellQuote('\u2018x\u2019 \u201a\u201b'), "'\u2018\u2018x\u2019\u2019 \u201a\u201a\u201b\u201b'");
    assert.equal(powershellQuote('$(Remove-Item C:\\) `n "x"; a\nb'), "'$(Remove-Item C:\\) `n \"x\"; a\nb'");
    // Read back as PowerShell does: inside '…' only a doubled quote is special, so undoubling gives the value.
    for (const value of ["'", "''; Write-Host pwned; '", '\u2019; calc; \u2018', 'plain']) {
      const quoted = powershellQuote(value);
      const inner = quoted.slice(1, -1);
      assert.ok(!/(^|[^'\u2018-\u201b])['\u2018-\u201b]([^'\u2018-\u201b]|$)/.test(inner.replace(/(['\u2018-\u201b])\1/g, '')), `no lone quote in ${quoted}`);
      assert.equal(inner.replace(/(['\u2018-\u201b])\1/g, '$1'), value);
    }
  });

  it('refuses, for cmd, any value with a character cmd.exe would expand or end on, without printing the value', () => {
    for (const bad of ['a"b', '%PATH%', '!x!', 'a^b', 'a&calc', 'a|b', 'a<b', 'a>b', 'a\r\nset X=1', 'é', 'a\tb']) {
      assert.throws(() => cmdValue('MI_TOKEN', bad), (e: Error) => e instanceof OutputError && /MI_TOKEN holds a character that cmd.exe cannot carry/.test(e.message) && !e.message.includes(bad), JSON.stringify(bad));
    }
    assert.throws(() => formatOutput('cmd', { ...OPAQUE, token: 'x%y' }), OutputError);
    for (const good of ['eyJ0eXAi.eyJhdWQ.sig-_', '2030-01-16T05:24:12.000Z', 'b64+/==', '']) assert.equal(cmdValue('V', good), good);
  });

  it('puts the bare token in a file without a newline, other formats as printed', () => {
    assert.equal(formatOutput('token', OPAQUE), 'opaque-token-value\n');
    assert.equal(fileContent('token', OPAQUE), 'opaque-token-value');
    assert.equal(fileContent('json', OPAQUE), formatOutput('json', OPAQUE));
  });

  it('says a token that is not a JWT has no claims', () => {
    assert.match(claimsText(OPAQUE), /not a JWT/);
    assert.ok(!claimsText(OPAQUE).includes(OPAQUE.token));
  });
});

describe('writeSecretFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'secret-'));
  });
  afterEach(() => sinon.restore());

  it('creates the temporary file exclusively with mode 0600, so it is never readable by others', () => {
    const open = sinon.spy(fs, 'openSync');
    const old = process.umask(0);
    try {
      writeSecretFile(join(dir, 'token'), 'value');
    } finally {
      process.umask(old);
    }
    assert.equal(open.callCount, 1);
    assert.deepEqual(open.firstCall.args.slice(1), ['wx', SECRET_FILE_MODE]);
    assert.match(String(open.firstCall.args[0]), /\/\.token\.\d+\.[0-9a-f]{12}\.tmp$/);
    assert.equal(fs.statSync(join(dir, 'token')).mode & 0o777, 0o600);
  });

  it('keeps the old file whole when writing fails half way, and leaves no temporary file', () => {
    const file = join(dir, 'token');
    fs.writeFileSync(file, 'old token');
    const write = fs.writeSync;
    sinon.stub(fs, 'writeSync').callsFake(((fd: number, data: Buffer, offset: number) => {
      if (offset > 0) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      return write(fd, data, 0, 4);
    }) as typeof fs.writeSync);
    assert.throws(() => writeSecretFile(file, 'a new token that does not fit'), /ENOSPC/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'old token');
    assert.deepEqual(fs.readdirSync(dir), ['token']);
  });

  it('leaves no temporary file when the target cannot be replaced', () => {
    fs.mkdirSync(join(dir, 'token'));
    assert.throws(() => writeSecretFile(join(dir, 'token'), 'value'), /it is a folder/);
    assert.deepEqual(fs.readdirSync(dir), ['token']);
  });

  for (const [what, make] of [
    ['a symbolic link to /proc/self/fd/1', (p: string) => fs.symlinkSync('/proc/self/fd/1', p)],
    ['a symbolic link to a regular file', (p: string) => (fs.writeFileSync(`${p}.real`, 'x'), fs.symlinkSync(`${p}.real`, p))],
    ['a FIFO', (p: string) => execFileSync('mkfifo', [p])],
  ] as const) {
    it(`refuses ${what}, and leaves it as it was`, function () {
      if (process.platform === 'win32') this.skip();
      const target = join(dir, 'token');
      make(target);
      assert.throws(() => writeSecretFile(target, 'value'), /Refusing to write to '.*token': it is (a symbolic link|a FIFO)/);
      assert.ok(!fs.lstatSync(target).isFile(), 'not replaced by a regular file');
      assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
    });
  }

  it('refuses a character device', function () {
    // One of its own (mknod needs root; skipped without), never /dev/null: code without the check would replace it.
    const device = join(dir, 'null');
    try {
      execFileSync('mknod', [device, 'c', '1', '3'], { stdio: 'ignore' });
    } catch {
      this.skip();
    }
    assert.throws(() => writeSecretFile(device, 'value'), /Refusing to write to '.*null': it is a character device/);
    assert.ok(fs.lstatSync(device).isCharacterDevice());
  });

  it('replaces a regular file and writes a new path', () => {
    fs.writeFileSync(join(dir, 'old'), 'old');
    writeSecretFile(join(dir, 'old'), 'new');
    writeSecretFile(join(dir, 'new'), 'new');
    assert.equal(fs.readFileSync(join(dir, 'old'), 'utf8') + fs.readFileSync(join(dir, 'new'), 'utf8'), 'newnew');
  });
});
