import { strict as assert } from 'node:assert';
import { isoFromEpochSeconds, parseExpiresIn, parseExpiresOn } from '../../src/core/expiry';

describe('expiry', () => {
  it('reads epoch seconds as a number or a string', () => {
    assert.equal(parseExpiresOn(1893456000)?.toISOString(), '2030-01-01T00:00:00.000Z');
    assert.equal(parseExpiresOn('1893456000')?.toISOString(), '2030-01-01T00:00:00.000Z');
    assert.equal(parseExpiresOn(' 1893456000 ')?.toISOString(), '2030-01-01T00:00:00.000Z');
  });

  it('reads the 2017-09-01 date strings in 12- and 24-hour forms', () => {
    assert.equal(parseExpiresOn('1/16/2030 5:24:12 AM +00:00')?.toISOString(), '2030-01-16T05:24:12.000Z');
    assert.equal(parseExpiresOn('1/16/2030 5:24:12 PM +00:00')?.toISOString(), '2030-01-16T17:24:12.000Z');
    assert.equal(parseExpiresOn('1/16/2030 12:04:12 AM +00:00')?.toISOString(), '2030-01-16T00:04:12.000Z');
    assert.equal(parseExpiresOn('1/16/2030 12:04:12 PM +00:00')?.toISOString(), '2030-01-16T12:04:12.000Z');
    assert.equal(parseExpiresOn('06/20/2030 02:57:58 +00:00')?.toISOString(), '2030-06-20T02:57:58.000Z');
    assert.equal(parseExpiresOn('06/20/2030 02:57:58 +02:00')?.toISOString(), '2030-06-20T00:57:58.000Z');
    assert.equal(parseExpiresOn('06/20/2030 02:57:58 -05:30')?.toISOString(), '2030-06-20T08:27:58.000Z');
    assert.equal(parseExpiresOn('2/29/2028 11:59:59 PM +00:00')?.toISOString(), '2028-02-29T23:59:59.000Z');
  });

  it('refuses what it cannot read rather than guessing', () => {
    for (const bad of ['', 'soon', '13/01/2030 01:00:00 +00:00', '1/16/2030 13:00:00 PM +00:00', '2/30/2030 01:00:00 +00:00', '4/31/2030 01:00:00 AM +00:00', -5, 0, 1e15, {}, null, undefined, '1e9']) {
      assert.equal(parseExpiresOn(bad), undefined, String(bad));
    }
  });

  it('reads expires_in relative to now', () => {
    assert.equal(parseExpiresIn(3599, 1_000_000)?.getTime(), 1_000_000 + 3_599_000);
    assert.equal(parseExpiresIn('3599', 0)?.getTime(), 3_599_000);
    assert.equal(parseExpiresIn('x', 0), undefined);
  });

  it('refuses an expires_in no date can hold, instead of an Invalid Date that throws when printed', () => {
    assert.equal(parseExpiresIn(1e20, 0), undefined);
    assert.equal(parseExpiresIn('99999999999999999999', 0), undefined);
  });

  it('turns epoch seconds into ISO 8601 only where a date can hold them', () => {
    assert.equal(isoFromEpochSeconds(1060), '1970-01-01T00:17:40.000Z');
    for (const bad of [1e20, -1e20, Infinity, NaN, '1060', undefined]) assert.equal(isoFromEpochSeconds(bad), undefined, String(bad));
  });
});
