/**
 * Root hooks (loaded by .mocharc.json, before any test file):
 *  - one temporary folder for the whole run: the system temp variables point
 *    into it for this process and every child it starts (tasks, mi-token, the
 *    agent runner's agent-temp-* folders, the emulator's token files), and it
 *    is removed after the run, so the suite leaves nothing in the system temp
 *    (nor task-lib's .taskkey in the repository);
 *  - the suite-wide secret scan, after every test.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../scripts/paths';
import { findForgedCommands, findLeaks, scanCounts } from './scan';

const suiteTemp = mkdtempSync(join(tmpdir(), 'mi-tasks-test-'));
/** task-lib's key file, which a process that loads task-lib with no Agent.TempDirectory writes into its working folder. */
const repoTaskKey = join(ROOT, '.taskkey');
const hadTaskKey = existsSync(repoTaskKey);

// task-lib, when first loaded, logs each agent variable it reads (##vso[task.debug]… on stdout) and writes its key
// file (.taskkey) into Agent.TempDirectory, else the working folder: the repository. The tests that load it in this
// process are not a task: load it once here, quietly, with its key file in the suite's temporary folder.
const write = process.stdout.write;
const agentTemp = process.env.AGENT_TEMPDIRECTORY;
process.stdout.write = () => true;
process.env.AGENT_TEMPDIRECTORY = suiteTemp;
try {
  require('azure-pipelines-task-lib/task');
} finally {
  process.stdout.write = write;
  if (agentTemp === undefined) delete process.env.AGENT_TEMPDIRECTORY;
  else process.env.AGENT_TEMPDIRECTORY = agentTemp;
}
// os.tmpdir() reads TMPDIR on POSIX and TEMP/TMP on Windows, at each call.
for (const name of ['TMPDIR', 'TEMP', 'TMP']) process.env[name] = suiteTemp;

export const mochaHooks = {
  afterAll(): void {
    rmSync(suiteTemp, { recursive: true, force: true, maxRetries: 5 });
    if (!hadTaskKey && existsSync(repoTaskKey)) {
      rmSync(repoTaskKey, { force: true });
      throw new Error(`A test left task-lib's ${repoTaskKey}: give the process it starts an Agent.TempDirectory (AGENT_TEMPDIRECTORY) or another working folder.`);
    }
    const leaks = findLeaks();
    const { outputs, tokens } = scanCounts();
    if (leaks.length) throw new Error(`Token values leaked into output:\n${leaks.join('\n')}`);
    const forged = findForgedCommands();
    if (forged.length) throw new Error(`Logging commands from outside reached the output unfiltered:\n${forged.join('\n')}`);
    console.log(`  secret scan: ${tokens} minted tokens, ${outputs} outputs scanned, no leak, no forged ##vso[ command`);
  },
};
