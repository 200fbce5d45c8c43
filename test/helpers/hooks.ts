/**
 * Root hooks (loaded by .mocharc.json, before any test file):
 *  - one temporary folder for the whole run: the system temp variables point
 *    into it for this process and every child it starts (tasks, mi-token, the
 *    agent runner's agent-temp-* folders, the emulator's token files), and it
 *    is removed after the run, so the suite leaves nothing in the system temp;
 *  - the suite-wide secret scan, after every test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findForgedCommands, findLeaks, scanCounts } from './scan';

const suiteTemp = mkdtempSync(join(tmpdir(), 'mi-tasks-test-'));
// os.tmpdir() reads TMPDIR on POSIX and TEMP/TMP on Windows, at each call.
for (const name of ['TMPDIR', 'TEMP', 'TMP']) process.env[name] = suiteTemp;

export const mochaHooks = {
  afterAll(): void {
    rmSync(suiteTemp, { recursive: true, force: true, maxRetries: 5 });
    const leaks = findLeaks();
    const { outputs, tokens } = scanCounts();
    if (leaks.length) throw new Error(`Token values leaked into output:\n${leaks.join('\n')}`);
    const forged = findForgedCommands();
    if (forged.length) throw new Error(`Logging commands from outside reached the output unfiltered:\n${forged.join('\n')}`);
    console.log(`  secret scan: ${tokens} minted tokens, ${outputs} outputs scanned, no leak, no forged ##vso[ command`);
  },
};
