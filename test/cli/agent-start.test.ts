/**
 * examples/agent/start.sh with a stand-in agent (config.sh and run.sh that
 * only record what they were given) and the bundled mi-token on PATH, against
 * the emulator: it registers with a token, and on a stop signal removes the
 * agent with a fresh one.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AzureEmulator, IMDS_TOKEN_ROUTE, imdsEnv } from '../../emulator';
import { CLI_BIN, ROOT } from '../../scripts/paths';
import { startCommand } from '../helpers/cli';
import { withEmulator } from '../helpers/emulator';

/** Writes each call as "<configure|remove> <token>" to $CALLS, and keeps .agent as the real agent does. */
const FAKE_CONFIG = `#!/bin/sh
action=configure; [ "$1" = remove ] && action=remove
prev=; token=
for a in "$@"; do [ "$prev" = --token ] && token=$a; prev=$a; done
echo "$action $token" >> "$CALLS"
if [ "$action" = configure ]; then touch .agent; else rm -f .agent; fi
`;
const FAKE_RUN = `#!/bin/sh
touch running
exec sleep 30
`;

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('examples/agent/start.sh', () => {
  it('registers with a managed identity token and removes the agent with a fresh one on SIGTERM', async function () {
    this.timeout(20_000);
    await withEmulator({ userAssigned: ['agents', 'deploy'] }, async (emu) => {
      await startAndStop(emu);
    });
  });
});

async function startAndStop(emu: AzureEmulator): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-'));
  const bin = join(dir, 'bin');
  const agent = join(dir, 'agent');
  mkdirSync(bin);
  mkdirSync(agent);
  symlinkSync(CLI_BIN, join(bin, 'mi-token'));
  writeFileSync(join(agent, 'config.sh'), FAKE_CONFIG, { mode: 0o755 });
  writeFileSync(join(agent, 'run.sh'), FAKE_RUN, { mode: 0o755 });
  const calls = join(dir, 'calls');
  const identity = emu.machine.userAssigned[0];

  const env = {
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    AZP_URL: 'https://dev.azure.com/contoso',
    AZP_AGENT_NAME: 'aca-agent-1',
    AZP_CLIENT_ID: identity.clientId,
    AGENT_DIR: agent,
    CALLS: calls,
    ...imdsEnv(emu),
  };
  const { child, done } = startCommand('examples/agent/start.sh', 'bash', [join(ROOT, 'examples', 'agent', 'start.sh')], env, emu);
  await until(() => existsSync(join(agent, 'running')), 'run.sh');
  child.kill('SIGTERM');
  const { code, stdout, stderr } = await done;

  assert.equal(code, 143, stderr);
  // The check (claims on stderr), registration, removal: three tokens, each for Azure DevOps and the chosen identity.
  const requests = emu.received(IMDS_TOKEN_ROUTE).map((r) => new URL(r.url, 'http://x').searchParams);
  assert.equal(requests.length, 3);
  for (const q of requests) {
    assert.equal(q.get('resource'), '499b84ac-1321-427f-aa17-267ca6975798');
    assert.equal(q.get('client_id'), identity.clientId);
  }
  const [, registered, removed] = emu.minted.map((m) => m.token);
  assert.deepEqual(readFileSync(calls, 'utf8').trimEnd().split('\n'), [`configure ${registered}`, `remove ${removed}`]);
  assert.notEqual(registered, removed);
  assert.ok(!existsSync(join(agent, '.agent')));
  assert.match(stderr, new RegExp(`^  oid +${identity.objectId}$`, 'm'));
  assert.match(stdout, /1\. Checking.*\n2\. Registering.*\n3\. Removing/s);
}

/**
 * examples/agent/start.ps1 cannot run here (no PowerShell on this machine, nor
 * under Wine): its steps are checked against start.sh's, line by line of
 * meaning, so the two stay twins.
 */
describe('examples/agent/start.ps1 (read, not run: no PowerShell here)', () => {
  const ps1 = readFileSync(join(ROOT, 'examples', 'agent', 'start.ps1'), 'utf8');
  const sh = readFileSync(join(ROOT, 'examples', 'agent', 'start.sh'), 'utf8');

  it('reads the same settings as start.sh and asks mi-token for the same token', () => {
    for (const name of ['AZP_URL', 'AZP_POOL', 'AZP_AGENT_NAME', 'AZP_WORK', 'AZP_CLIENT_ID', 'AGENT_DIR']) {
      assert.ok(sh.includes(name), `start.sh reads ${name}`);
      assert.ok(ps1.includes(`$Env:${name}`), `start.ps1 reads ${name}`);
    }
    assert.match(sh, /mi_args=\(--audience AzureDevOps --timeout 60\)/);
    assert.match(ps1, /\$miArgs = @\('--audience', 'AzureDevOps', '--timeout', '60'\)/);
    assert.match(ps1, /\$miArgs \+= @\('--client-id', \$Env:AZP_CLIENT_ID\)/);
  });

  it('checks the identity first, registers with a token, runs the agent, and removes it with a fresh token in finally, five tries', () => {
    const steps = ['& mi-token @miArgs --claims', '$token = Get-AgentToken', '.\\config.cmd --unattended', '--auth pat --token $token', '.\\run.cmd @args', 'finally {', '$token = & mi-token @miArgs', '.\\config.cmd remove --unattended --auth pat --token $token'];
    let at = -1;
    for (const step of steps) {
      const next = ps1.indexOf(step, at + 1);
      assert.ok(next > at, `start.ps1 has "${step}" after the step before it`);
      at = next;
    }
    assert.match(ps1, /foreach \(\$attempt in 1\.\.5\)/);
    // A native command's failure does not stop PowerShell: the line after each mi-token or config.cmd call checks $LASTEXITCODE.
    const lines = ps1.split('\n');
    lines.forEach((line, i) => {
      if (/^\s*(\$token = )?& mi-token|^\s*\.\\config\.cmd remove/.test(line)) assert.match(lines[i + 1], /\$LASTEXITCODE/, line);
    });
  });
});
