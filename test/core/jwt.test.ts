import { strict as assert } from 'node:assert';
import { mintToken } from '../../emulator/jwt';
import { claimLines, clientIdOf, decodeJwtClaims, describeClaims, jwtSecretSegments, redactJwts } from '../../src/core/jwt';

describe('jwt', () => {
  const minted = mintToken({
    audience: 'https://management.azure.com/',
    tenantId: 't',
    clientId: 'c',
    objectId: 'o',
    miResourceId: '/subscriptions/s/rg',
    lifetimeSeconds: 60,
    nowSeconds: 1000,
  });

  it('decodes the claims the emulator minted', () => {
    const claims = decodeJwtClaims(minted.token);
    assert.equal(claims?.aud, 'https://management.azure.com/');
    assert.equal(claims?.exp, 1060);
    assert.equal(clientIdOf(claims), 'c');
    assert.deepEqual(
      describeClaims(claims!).map(([k]) => k),
      ['aud', 'iss', 'tid', 'oid', 'appid', 'xms_mirid', 'idtyp', 'exp'],
    );
  });

  it('shows an exp no date can hold as it is, without throwing', () => {
    assert.deepEqual(describeClaims({ exp: 1e20 }), [['exp', '100000000000000000000 (not a date)']]);
  });

  it('aligns the claims in lines for the log and --claims', () => {
    assert.deepEqual(claimLines({ aud: 'a', xms_mirid: '/m' }), ['  aud       a', '  xms_mirid /m']);
  });

  it('reads azp for v2 tokens', () => {
    assert.equal(clientIdOf({ azp: 'x' }), 'x');
  });

  it('returns undefined for anything that is not a JWT', () => {
    for (const t of ['', 'opaque', 'a.b', 'a.!!!.c', `a.${Buffer.from('[1]').toString('base64url')}.c`, 'a..c']) {
      assert.equal(decodeJwtClaims(t), undefined, t);
    }
  });

  it('names the payload and signature segments for masking', () => {
    const [, payload, signature] = minted.token.split('.');
    assert.deepEqual(jwtSecretSegments(minted.token), [payload, signature]);
    assert.deepEqual(jwtSecretSegments('opaque'), []);
    const five = ['eyJhbGciOiJSU0EtT0FFUCJ9', 'a'.repeat(40), 'b'.repeat(22), 'c'.repeat(64), 'd'.repeat(22)];
    assert.deepEqual(jwtSecretSegments(five.join('.')), five.slice(1), 'every segment of an encrypted (five-segment) token');
  });

  it('removes anything that looks like a JWT from text it did not write, signed or not', () => {
    const unsigned = minted.token.split('.').slice(0, 2).join('.') + '.';
    const text = `Authorization: Bearer ${minted.token}\nDEBUG ${unsigned} end`;
    assert.equal(redactJwts(text), 'Authorization: Bearer <token removed>\nDEBUG <token removed> end');
    assert.equal(redactJwts('no eyJ token here'), 'no eyJ token here');
  });
});
