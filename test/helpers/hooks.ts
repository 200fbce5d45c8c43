/** Root hooks (loaded by .mocharc.json): the suite-wide secret scan runs after every test. */
import { findForgedCommands, findLeaks, scanCounts } from './scan';

export const mochaHooks = {
  afterAll(): void {
    const leaks = findLeaks();
    const { outputs, tokens } = scanCounts();
    if (leaks.length) throw new Error(`Token values leaked into output:\n${leaks.join('\n')}`);
    const forged = findForgedCommands();
    if (forged.length) throw new Error(`Logging commands from outside reached the output unfiltered:\n${forged.join('\n')}`);
    console.log(`  secret scan: ${tokens} minted tokens, ${outputs} outputs scanned, no leak, no forged ##vso[ command`);
  },
};
