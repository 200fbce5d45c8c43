/** src/core/remove-folder.ts: a folder Windows still holds busy is retried for a few seconds, then reported, not thrown. */
import { strict as assert } from 'node:assert';
import { removeFolder } from '../../src/core/remove-folder';

function busy(code: string): Error {
  return Object.assign(new Error(`${code}: resource busy or locked`), { code });
}

/** A fake clock whose sleep moves time on. */
function fakeTime() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

describe('removeFolder', () => {
  for (const code of ['EBUSY', 'EPERM']) {
    it(`retries while the folder is ${code}, and removes it once it is free`, async () => {
      let calls = 0;
      const rm = () => {
        if (++calls < 4) throw busy(code);
      };
      assert.deepEqual(await removeFolder('C:\\agent\\_temp\\azure-cli-mi-x', { rm, ...fakeTime() }), { removed: true });
      assert.equal(calls, 4);
    });
  }

  it('gives up after a few seconds with the code, for a warning that names the folder', async () => {
    let calls = 0;
    const time = fakeTime();
    const rm = () => {
      calls++;
      throw busy('EBUSY');
    };
    const outcome = await removeFolder('C:\\agent\\_temp\\azure-cli-mi-x', { rm, ...time, retryForMs: 5000, intervalMs: 250 });
    assert.deepEqual(outcome, { removed: false, code: 'EBUSY' });
    assert.equal(calls, 21, 'every 250 ms for 5 s');
    assert.equal(time.now(), 5000);
  });

  it('throws any other failure at once', async () => {
    const rm = () => {
      throw busy('EIO');
    };
    await assert.rejects(removeFolder('/x', { rm, ...fakeTime() }), /EIO/);
  });
});
