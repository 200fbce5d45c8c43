import { strict as assert } from 'node:assert';
import { isManagedIdentityError } from '../../src/core/errors';
import { parseTimeoutSeconds } from '../../src/core/timeout';

describe('timeoutSeconds', () => {
  it('takes a positive whole number of seconds, and the default when empty', () => {
    assert.equal(parseTimeoutSeconds(' 30 '), 30);
    assert.equal(parseTimeoutSeconds(''), 120);
  });

  it('refuses zero, negative, fractional and non-numeric values with TimeoutInvalid', () => {
    for (const bad of ['0', '-3', '1.5', 'abc', '10s']) {
      assert.throws(() => parseTimeoutSeconds(bad), (e: unknown) => isManagedIdentityError(e) && e.key === 'TimeoutInvalid', bad);
    }
  });
});
