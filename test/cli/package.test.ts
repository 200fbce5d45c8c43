/**
 * The npm package mi-token (packages/mi-token): `npm pack` holds the bundled
 * command, its README and package.json, and nothing it would need to install,
 * so `npx -p <tarball> mi-token` runs offline; it is publishable (not private)
 * with the extension's version.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imdsEnv } from '../../emulator';
import { CLI_PACKAGE, ROOT } from '../../scripts/paths';
import { runMiToken } from '../helpers/cli';
import { withEmulator } from '../helpers/emulator';

interface PackResult {
  filename: string;
  files: Array<{ path: string; mode: number }>;
}

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  bin: Record<string, string>;
  files: string[];
  engines: { node: string };
  dependencies?: object;
  scripts?: object;
}

describe('the mi-token npm package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mi-token-pack-'));
  const manifest = JSON.parse(readFileSync(join(CLI_PACKAGE, 'package.json'), 'utf8')) as Manifest;
  let packed: PackResult;
  before(function () {
    this.timeout(60_000);
    // npm test has built the command already.
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: CLI_PACKAGE, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    [packed] = JSON.parse(out) as PackResult[];
  });

  it('holds the bundled command, executable, its README and package.json, and no dependencies to install', () => {
    assert.deepEqual(packed.files.map((f) => f.path).sort(), ['README.md', 'mi-token.js', 'package.json']);
    assert.equal(packed.files.find((f) => f.path === 'mi-token.js')!.mode & 0o111, 0o111);
    assert.deepEqual(manifest.bin, { 'mi-token': 'mi-token.js' });
    assert.equal(manifest.dependencies, undefined, 'npx would install these: the bundle needs none');
    assert.equal(manifest.scripts, undefined, 'nothing runs at install');
  });

  it('is publishable as mi-token, with the version of the repository and the Node the command is built for', () => {
    const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
    assert.equal(manifest.name, 'mi-token');
    assert.equal(manifest.private, undefined);
    assert.equal(manifest.version, root.version);
    assert.equal(manifest.engines.node, root.engines.node);
    assert.equal(packed.filename, `mi-token-${root.version}.tgz`);
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
