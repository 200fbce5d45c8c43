/**
 * Hostile stand-ins for the Azure CLI: an `az` of the shape Microsoft's
 * Debian/Ubuntu package installs (a bash script that starts the real program
 * without `exec`), whose program hangs, ignores SIGTERM, or forks a child
 * that keeps the pipes open and exits. Every process of the tree writes its
 * PID to a file, so a test can check that none outlived the run.
 * Needs bash (skipped, loudly, without it).
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type HostileMode = 'hang' | 'ignoreTerm' | 'fork';

export interface HostileAz {
  /** The folder holding `az`, to put first on PATH. */
  dir: string;
  az: string;
  /** The environment that sets its behaviour. */
  env(mode: HostileMode, on: string): Record<string, string>;
  /** The PIDs of every process the stand-in started so far. */
  pids(): number[];
}

export const BASH = ['/bin/bash', '/usr/bin/bash'].find((p) => existsSync(p));

/**
 * The az wrapper: bash, no exec, like /usr/bin/az from the azure-cli .deb. `version` and any command other
 * than the hostile one answer at once (`version` after HOSTILE_AZ_VERSION_DELAY seconds, if set); the hostile one
 * (HOSTILE_AZ_ON, a prefix of "group sub") misbehaves.
 */
const WRAPPER = `#!BASH
echo $$ >> "$HOSTILE_AZ_PIDS"
PROGRAM
`;

const PROGRAM = `#!BASH
echo $$ >> "$HOSTILE_AZ_PIDS"
if [ "$1" = version ]; then sleep "\${HOSTILE_AZ_VERSION_DELAY:-0}"; echo '{"azure-cli": "2.45.0"}'; exit 0; fi
case "$1 $2" in
  "$HOSTILE_AZ_ON"*)
    case "$HOSTILE_AZ_MODE" in
      hang) sleep 600 & echo $! >> "$HOSTILE_AZ_PIDS"; wait ;;
      ignoreTerm) trap '' TERM; while :; do sleep 1; done ;;
      fork) (echo $BASHPID >> "$HOSTILE_AZ_PIDS"; exec sleep 600) & echo '[]'; exit 0 ;;
    esac ;;
esac
echo '[]'
exit 0
`;

export function installHostileAz(): HostileAz {
  if (!BASH) throw new Error('bash is needed for the hostile az');
  const dir = mkdtempSync(join(tmpdir(), 'hostile-az-'));
  const program = join(dir, 'az-program');
  const az = join(dir, 'az');
  const pidFile = join(dir, 'pids');
  writeFileSync(pidFile, '');
  writeFileSync(program, PROGRAM.replace('BASH', BASH));
  writeFileSync(az, WRAPPER.replace('BASH', BASH).replace('PROGRAM', `"${program}" "$@"`));
  chmodSync(program, 0o755);
  chmodSync(az, 0o755);
  return {
    dir,
    az,
    env: (mode, on) => ({ HOSTILE_AZ_MODE: mode, HOSTILE_AZ_ON: on, HOSTILE_AZ_PIDS: pidFile }),
    pids: () => readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number),
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The PIDs still running after up to `waitMs` (a killed process may take a moment to be reaped). */
export async function survivors(pids: number[], waitMs = 3000): Promise<number[]> {
  const until = Date.now() + waitMs;
  for (;;) {
    const alive = pids.filter(isAlive);
    if (alive.length === 0 || Date.now() > until) return alive;
    await new Promise((r) => setTimeout(r, 100));
  }
}
