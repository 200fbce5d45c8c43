/** A token's lifetime: expired is an error, under 5 minutes a warning, and the minutes shown are never negative. */
import { strict as assert } from 'node:assert';
import { ManagedIdentityError } from '../../src/core/errors';
import { checkLifetime, minutesLeft } from '../../src/core/lifetime';

describe('token lifetime', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  const at = (seconds: number) => new Date(now + seconds * 1000);

  it('refuses a token that expired, or expires this instant', () => {
    for (const s of [-3600, -1, 0]) {
      assert.throws(() => checkLifetime('IMDS', at(s), now), (e: ManagedIdentityError) => e.key === 'TokenExpired' && e.args[1] === at(s).toISOString() && e.args[2] === '2030-01-01T00:00:00.000Z');
    }
  });

  it('warns under 5 minutes, with the seconds left', () => {
    assert.deepEqual(checkLifetime('IMDS', at(1), now), [{ key: 'TokenExpiresSoon', args: [at(1).toISOString(), '1'] }]);
    assert.deepEqual(checkLifetime('IMDS', at(299), now)[0].args[1], '299');
    assert.deepEqual(checkLifetime('IMDS', at(300), now), []);
    assert.deepEqual(checkLifetime('IMDS', at(86400), now), []);
  });

  it('shows minutes left rounded and never negative', () => {
    assert.equal(minutesLeft(at(3599), now), 60);
    assert.equal(minutesLeft(at(20), now), 0);
    assert.equal(minutesLeft(at(-600), now), 0);
  });
});
