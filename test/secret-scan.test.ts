/** The suite-wide secret scan itself: what it counts as a leak, and what it lets through. */
import { strict as assert } from 'node:assert';
import { mintToken } from '../emulator/jwt';
import { forgedCommandsIn, leaksIn, needlesOf } from './helpers/scan';

describe('the secret scan', () => {
  const { token } = mintToken({
    audience: 'https://management.azure.com/',
    tenantId: 't',
    clientId: 'c',
    objectId: 'o',
    miResourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm',
    lifetimeSeconds: 3600,
    nowSeconds: 1_767_225_600,
  });
  const [, payload, signature] = token.split('.');
  const needles = needlesOf('the token', token);
  const leaks = (text: string) => leaksIn([{ label: 'run', text }], needles);

  it('counts the token, its payload alone and its signature alone as leaks', () => {
    assert.deepEqual(leaks(`Bearer ${token}`), ['run: the token', 'run: a segment of the token', 'run: a segment of the token']);
    assert.deepEqual(leaks(`claims: ${payload}`), ['run: a segment of the token']);
    assert.deepEqual(leaks(`sig ${signature}\n`), ['run: a segment of the token']);
    assert.deepEqual(leaks('no token here'), []);
  });

  it('lets the token through only in the commands that register it as a secret', () => {
    assert.deepEqual(leaks(`##vso[task.setvariable variable=T;isOutput=true;issecret=true;]${token}`), []);
    assert.deepEqual(leaks(`  ##vso[task.setvariable variable=T;issecret=true]${token}\r\n##vso[task.setsecret]${payload}`), []);
    for (const text of [
      `##vso[task.setvariable variable=T;isOutput=false;issecret=false;]${token}`,
      `##vso[task.setvariable variable=T;]${token}`,
      `##vso[task.setvariable variable=T]${token};issecret=true]`,
      `echo ##vso[task.setvariable variable=T;issecret=true]${token}`,
      `##vso[task.setvariable variable=T;issecret=true]x\n${token}`,
    ]) {
      assert.notDeepEqual(leaks(text), [], text);
    }
  });

  it('flags a ##vso[ command the task did not mean to write, and lets task-lib\'s own through', () => {
    const forged = (text: string) => forgedCommandsIn([{ label: 'run', text }]);
    for (const text of [
      '##vso[task.setvariable variable=T;isOutput=false;issecret=true;]x',
      '  ##vso[task.debug]a ##vso[task.prependpath]/tmp (data of a command: not obeyed)',
      '##vso[task.complete result=Failed;]message',
      '##vso[task.addattachment type=Distributedtask.Core.Summary;name=Token;]/tmp/s.md',
      'the claim ##_vso[task.prependpath]/tmp, made inert',
    ]) {
      assert.deepEqual(forged(text), [], text);
    }
    for (const text of [
      '  xms_mirid ##vso[task.setvariable variable=PWNED]yes',
      '##vso[task.prependpath]/tmp/evil',
      '##vso[task.setvariable variable=PWNED]yes',
      'ok\n##VSO[task.complete result=Failed]',
    ]) {
      assert.equal(forged(text).length, 1, text);
    }
  });
});
