/** Choosing the token source: detected ('auto') or forced by name. */
import { strict as assert } from 'node:assert';
import { selectSource, SOURCE_CHOICES, SOURCES, SourceChoice } from '../../src/core/acquire';

describe('selectSource', () => {
  it("offers 'auto' and then every source by name", () => {
    assert.deepEqual(SOURCE_CHOICES, ['auto', ...SOURCES.map((s) => s.name)]);
  });

  it('returns the source forced by name, whatever the environment', () => {
    for (const source of SOURCES) assert.equal(selectSource({}, source.name), source);
  });

  it('refuses a name it does not know', () => {
    assert.throws(() => selectSource({}, 'carrier-pigeon' as SourceChoice), /Unknown token source 'carrier-pigeon'; expected one of auto, /);
  });
});
