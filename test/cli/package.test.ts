/**
 * The npm package: `npm pack` holds the bundled command and nothing it would
 * need to install, so `npx -p <tarball> mi-token` runs offline.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imdsEnv } from '../../emulator';
import { ROOT } from '../../scripts/paths';
import { runMiToken } from '../helpers/cli';
import { withEmulator } from '../helpers/emulator';

interface PackResult {
  filename: string;
  files: Array<{ path: string; mode: number }>;
}

describe('the mi-token npm package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mi-token-pack-'));
  let packed: PackResult;
  before(function () {
    this.timeout(60_000);
    // npm test has built bin/ already; prepack would rebuild it (and out/) under the running suite.
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    [packed] = JSON.parse(out) as PackResult[];
  });

  it('holds the bundled command, executable, and no dependencies to install', () => {
    assert.deepEqual(packed.files.map((f) => f.path).sort(), ['LICENSE', 'README.md', 'bin/mi-token.js', 'package.json']);
    assert.equal(packed.files.find((f) => f.path === 'bin/mi-token.js')!.mode & 0o111, 0o111);
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; dependencies?: object };
    assert.deepEqual(manifest.bin, { 'mi-token': 'bin/mi-token.js' });
    assert.equal(manifest.dependencies, undefined, 'npx would install these: the bundle needs none');
  });

  it('runs with npx -p <tarball> mi-token, offline', async function () {
    this.timeout(60_000);
    await withEmulator({}, async (emu) => {
      const home = mkdtempSync(join(tmpdir(), 'npx-home-'));
      const npx = { file: 'npx', args: ['--yes', '--offline', '--cache', join(home, 'cache'), '-p', join(dir, packed.filename), 'mi-token'] };
      const r = await runMiToken(['--output', 'json'], { command: npx, env: { HOME: home, ...imdsEnv(emu) }, emu });
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { token: string }).token, emu.minted[0].token);
    });
  });
});
