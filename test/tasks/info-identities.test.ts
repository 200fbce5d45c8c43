/** ManagedIdentityInfo@1's Identities section: the identities assigned to this VM or scale set, from its identity block in Resource Manager. */
import { strict as assert } from 'node:assert';
import { ARM_ROUTES, AzureEmulator, ROLES, worldOf } from '../../emulator';
import { useEmulator } from '../helpers/emulator';
import { runInfoTask, runTokenTask } from '../helpers/tasks';

describe('ManagedIdentityInfo@1 Identities section', () => {
  let emu: AzureEmulator;
  useEmulator({ systemAssigned: false, userAssigned: ['id-a', 'id-b'] }, (e) => {
    emu = e;
  });

  const asB = () => ({ identityType: 'userAssigned', identityIdType: 'clientId', identityId: emu.machine.userAssigned[1].clientId });
  const readGroup = (objectId: string) => worldOf(emu).assign(objectId, ROLES.Reader, worldOf(emu).groupId(emu.machine.resourceGroup));

  it("lists the VM's user-assigned identities with their client and principal IDs, marking the task's own", async () => {
    const [a, b] = emu.machine.userAssigned;
    readGroup(b.objectId);
    const run = await runInfoTask(emu, { ...asB(), sections: 'identities' });
    assert.equal(run.result, 'Succeeded', run.log);
    assert.match(run.log, /Identities assigned to this VM or scale set/);
    assert.match(run.log, /Identity type +UserAssigned/);
    assert.match(run.log, /System-assigned \(principal ID\) +none/i);
    for (const [u, mine] of [[a, false], [b, true]] as const) {
      const row = (run.log.split('\n').find((l) => l.includes(u.clientId)) ?? '').toLowerCase();
      assert.ok(row.includes(u.name) && row.includes(u.objectId) && row.includes(u.resourceId.toLowerCase()), `a row for ${u.name}: ${row}`);
      assert.equal(row.includes("(this task's identity)"), mine, u.name);
    }
    assert.match(run.log, /Several user-assigned identities/);
    assert.ok(run.summary.includes(a.clientId) && run.summary.includes(b.clientId));
    assert.equal(emu.received(ARM_ROUTES.virtualMachine).length, 1);
  });

  it("reads a scale set's identities from the scale set", async () => {
    worldOf(emu).vm.scaleSet = 'vmss-agents';
    readGroup(emu.machine.userAssigned[1].objectId);
    const run = await runInfoTask(emu, { ...asB(), sections: 'identities' });
    assert.equal(run.result, 'Succeeded', run.log);
    assert.match(run.log, /virtualMachineScaleSets\/vmss-agents/);
    assert.equal(emu.received(ARM_ROUTES.scaleSet).length, 1);
    assert.ok(run.log.includes(emu.machine.userAssigned[0].clientId));
  });

  it('says which role would show them when the identity may not read its VM: a note by default, a warning when asked for', async () => {
    const quiet = await runInfoTask(emu, { ...asB(), sections: '' , keyVaultNames: '' });
    assert.match(quiet.log, /Not shown: Azure Resource Manager refused: .*Microsoft\.Compute\/virtualMachines\/read.*--role "Reader"/);
    assert.ok(!/##\[warning\]Identities assigned/.test(quiet.log), 'no warning of its own');
    const asked = await runInfoTask(emu, { ...asB(), sections: 'identities' });
    assert.equal(asked.result, 'SucceededWithIssues');
    assert.match(asked.log, /##\[warning\]Identities assigned to this VM or scale set: Azure Resource Manager refused: .*--role "Reader"/);
  });

  it("points the token task's \"multiple user assigned identities\" advice to the section", async () => {
    const run = await runTokenTask(emu, { audience: 'AzureResourceManager' });
    assert.equal(run.result, 'Failed');
    assert.match(run.resultMessage ?? '', /Multiple user assigned identities.*ManagedIdentityInfo@1 lists them with their IDs in its Identities section/);
  });
});
