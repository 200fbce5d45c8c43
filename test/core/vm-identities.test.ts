import { strict as assert } from 'node:assert';
import { identityHolder, parseIdentityBlock } from '../../src/core/vm-identities';
import type { InstanceInfo } from '../../src/core/instance';

describe('vm-identities', () => {
  const uai = (name: string) => `/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
  it('reads the identity block: type, the system-assigned principal, each user-assigned one sorted by name', () => {
    const ids = parseIdentityBlock('/vm', 'virtualMachine', {
      identity: {
        type: 'SystemAssigned, UserAssigned',
        principalId: 'p0',
        tenantId: 't',
        userAssignedIdentities: { [uai('zz')]: { principalId: 'p2', clientId: 'c2' }, [uai('aa')]: { principalId: 'p1', clientId: 'c1' } },
      },
    });
    assert.deepEqual(ids.systemAssigned, { principalId: 'p0', tenantId: 't' });
    assert.deepEqual(ids.userAssigned.map((u) => [u.name, u.clientId, u.principalId]), [['aa', 'c1', 'p1'], ['zz', 'c2', 'p2']]);
  });

  it('reads a VM without identities, or a broken block, as none', () => {
    for (const resource of [{}, { identity: 'x' }, { identity: { type: 7, userAssignedIdentities: [1] } }]) {
      const ids = parseIdentityBlock('/vm', 'virtualMachine', resource);
      assert.equal(ids.type, 'None');
      assert.equal(ids.systemAssigned, undefined);
      assert.deepEqual(ids.userAssigned, []);
    }
  });

  it('asks the scale set for a scale set instance, else the VM', () => {
    const vm = { subscriptionId: 's', resourceGroup: 'rg', resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm0' } as InstanceInfo;
    assert.deepEqual(identityHolder(vm), { resourceId: vm.resourceId, kind: 'virtualMachine' });
    assert.deepEqual(identityHolder({ ...vm, scaleSet: 'ss' }), { resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss', kind: 'scaleSet' });
  });
});
