/** The one rule for text from outside in a log line (src/core/log-text.ts). */
import { strict as assert } from 'node:assert';
import { inertLogText } from '../../src/core/log-text';

describe('inertLogText', () => {
  for (const [what, input] of [
    ['a ##vso[ command', 'x ##vso[task.setvariable variable=PWNED]yes'],
    ['a command after a line break', 'aud\n##vso[task.prependpath]/tmp/evil'],
    ['a command in another case', '##VSO[task.complete result=Failed]'],
    ['a ##[ format', '##[error]forged'],
    ['a marker split by an invisible mark', '##v\u200bso[task.complete]'],
    ['a marker split by a control character', '##\u0000[error]x'],
  ] as const) {
    it(`breaks up ${what}`, () => {
      const out = inertLogText(input);
      assert.doesNotMatch(out, /##(vso)?\[/i);
      assert.doesNotMatch(out, /[\r\n]/);
    });
  }

  it('removes bidirectional overrides and isolates, and makes controls a space', () => {
    const out = inertLogText('a\u202Eevil\u2066x\u2069\u0000b\u0085c\r\nd\u2028e');
    assert.equal(out, 'aevilx b c d e');
  });

  it('leaves ordinary text, other scripts and emoji as they are', () => {
    for (const t of ['https://management.azure.com/', 'Équipe données 数据 🚀', 'a#b [c] ## d', '##_vso[already inert]']) assert.equal(inertLogText(t), t);
  });
});
