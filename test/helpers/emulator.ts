/**
 * The one way a test starts the emulator: each emulator is watched by the
 * suite-wide secret scan (its minted tokens must never appear in any output)
 * and stopped after the test or block that started it.
 */
import { AzureEmulator, EmulatorOptions, startEmulator } from '../../emulator';
import { watchEmulator } from './scan';

/** A fresh emulator, watched by the secret scan. */
async function startWatched(options: EmulatorOptions): Promise<AzureEmulator> {
  const emu = await startEmulator(options);
  watchEmulator(emu);
  return emu;
}

/**
 * Registers mocha hooks in the enclosing describe block: an emulator started
 * before each test (or once before all of them, with `{ once: true }`) and
 * stopped after it. `use` receives each new emulator (to keep it in the
 * block's `emu` variable and set up what depends on it); the accessor
 * returned gives the current one inside a test.
 */
export function useEmulator(
  options: EmulatorOptions = {},
  use: (emu: AzureEmulator) => void | Promise<void> = () => undefined,
  { once = false }: { once?: boolean } = {},
): () => AzureEmulator {
  let current: AzureEmulator | undefined;
  (once ? before : beforeEach)(async () => {
    current = await startWatched(options);
    await use(current);
  });
  (once ? after : afterEach)(async () => {
    const emu = current;
    current = undefined;
    await emu?.stop();
  });
  return () => {
    if (!current) throw new Error('useEmulator: the emulator exists only while a test of its describe block runs');
    return current;
  };
}

/** Runs `body` with a fresh emulator (for a single test) and stops it after, whatever happens. */
export async function withEmulator<T>(options: EmulatorOptions, body: (emu: AzureEmulator) => Promise<T>): Promise<T> {
  const emu = await startWatched(options);
  try {
    return await body(emu);
  } finally {
    await emu.stop();
  }
}
