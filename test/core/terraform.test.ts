import { strict as assert } from 'node:assert';
import { CLOUDS, customCloud } from '../../src/core/clouds';
import { SYSTEM_ASSIGNED, userAssigned } from '../../src/core/identity';
import { terraformEnv, terraformSubscriptionId } from '../../src/core/terraform';
import { IMDS_DEFAULT_HOST } from '../../src/core/sources/imds';

/** Data only: no test sends anything to IMDS's real address. */
const IMDS_TOKEN_URL = `${IMDS_DEFAULT_HOST}/metadata/identity/oauth2/token`;

const T = 'aaaabbbb-0000-cccc-1111-dddd2222eeee';
const S = '00000000-1111-4222-8333-444444444444';
const C = '0f0f0f0f-1111-4222-8333-444444444444';

describe("Terraform's environment", () => {
  it('sets MSI, tenant and subscription for a system-assigned identity on IMDS, and nothing it does not know', () => {
    assert.deepEqual(terraformEnv({ identity: SYSTEM_ASSIGNED, cloud: CLOUDS.AzureCloud, clientId: C, tenantId: T, subscriptionId: S, endpoint: IMDS_TOKEN_URL }), [
      ['ARM_USE_MSI', 'true'],
      ['ARM_TENANT_ID', T],
      ['ARM_SUBSCRIPTION_ID', S],
    ]);
    assert.deepEqual(terraformEnv({ identity: SYSTEM_ASSIGNED, cloud: CLOUDS.AzureCloud }), [['ARM_USE_MSI', 'true']]);
  });

  it('sets the client ID of a user-assigned identity: the one given, or the token\'s', () => {
    const byClient = terraformEnv({ identity: userAssigned('clientId', C), cloud: CLOUDS.AzureCloud, clientId: 'from-token' });
    assert.deepEqual(byClient.find(([k]) => k === 'ARM_CLIENT_ID'), ['ARM_CLIENT_ID', C]);
    const byObject = terraformEnv({ identity: userAssigned('objectId', C), cloud: CLOUDS.AzureCloud, clientId: 'from-token' });
    assert.deepEqual(byObject.find(([k]) => k === 'ARM_CLIENT_ID'), ['ARM_CLIENT_ID', 'from-token']);
  });

  it('names the cloud, and the endpoint when it is not IMDS at its usual address', () => {
    const gov = terraformEnv({ identity: SYSTEM_ASSIGNED, cloud: CLOUDS.AzureUSGovernment, endpoint: IMDS_TOKEN_URL });
    assert.deepEqual(gov, [['ARM_USE_MSI', 'true'], ['ARM_ENVIRONMENT', 'usgovernment']]);
    const stack = terraformEnv({ identity: SYSTEM_ASSIGNED, cloud: customCloud('https://management.local.azurestack.external/'), endpoint: 'http://localhost:42356/msi/token' });
    assert.deepEqual(stack, [['ARM_USE_MSI', 'true'], ['ARM_METADATA_HOSTNAME', 'management.local.azurestack.external'], ['ARM_MSI_ENDPOINT', 'http://localhost:42356/msi/token']]);
  });

  it('takes the subscription from an azSubscription ID, else from the az login account unless it is a tenant-level one', () => {
    const account = { id: S, name: 'Prod', tenantId: T, isDefault: true };
    const tenantLevel = { id: T, name: 'N/A(tenant level account)', tenantId: T, isDefault: true };
    assert.equal(terraformSubscriptionId({ by: 'id', value: C }, account), C);
    assert.equal(terraformSubscriptionId({ by: 'name', value: 'Prod' }, account), S);
    assert.equal(terraformSubscriptionId(undefined, account), S);
    assert.equal(terraformSubscriptionId(undefined, tenantLevel), undefined);
    assert.equal(terraformSubscriptionId(undefined, undefined), undefined);
  });
});
