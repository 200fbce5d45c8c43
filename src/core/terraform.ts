/**
 * The environment the Terraform azurerm (and azapi) provider reads to
 * authenticate with a managed identity: ARM_USE_MSI, the identity's client
 * ID when it is user-assigned, the tenant, the subscription, the cloud, and
 * ARM_MSI_ENDPOINT when the token endpoint is not IMDS at its usual address.
 */
import type { AzAccount, SubscriptionRef } from './azcli';
import type { Cloud } from './clouds';
import type { IdentitySelector } from './identity';
import { IMDS_DEFAULT_HOST } from './sources/imds';

export interface TerraformInputs {
  identity: IdentitySelector;
  cloud: Cloud;
  /** The identity's client ID from the token (needed for a user-assigned identity named by object or resource ID). */
  clientId?: string;
  tenantId?: string;
  subscriptionId?: string;
  /** The token endpoint the task used, without its query. */
  endpoint?: string;
}

const ENVIRONMENTS: Partial<Record<Cloud['name'], string>> = { AzureUSGovernment: 'usgovernment', AzureChinaCloud: 'china' };

/** The variables, in a stable order; a value that is not known is left out. */
export function terraformEnv(i: TerraformInputs): Array<[string, string]> {
  const env: Array<[string, string | undefined]> = [
    ['ARM_USE_MSI', 'true'],
    ['ARM_CLIENT_ID', i.identity.kind === 'system' ? undefined : i.identity.kind === 'clientId' ? i.identity.id : i.clientId],
    ['ARM_TENANT_ID', i.tenantId],
    ['ARM_SUBSCRIPTION_ID', i.subscriptionId],
    ['ARM_ENVIRONMENT', ENVIRONMENTS[i.cloud.name]],
    ['ARM_METADATA_HOSTNAME', i.cloud.name === 'Custom' ? new URL(i.cloud.armEndpoint).host : undefined],
    ['ARM_MSI_ENDPOINT', i.endpoint && new URL(i.endpoint).origin !== IMDS_DEFAULT_HOST ? i.endpoint : undefined],
  ];
  return env.filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '');
}

/**
 * ARM_SUBSCRIPTION_ID from what is known without asking anyone: the azSubscription
 * input when it is an ID, else the account `az login` selected, unless that is a
 * tenant-level account (--allow-no-subscriptions: its id is the tenant's).
 * Undefined: the caller may ask the instance metadata, else warn.
 */
export function terraformSubscriptionId(input: SubscriptionRef | undefined, account: AzAccount | undefined): string | undefined {
  if (input?.by === 'id') return input.value;
  if (account && account.id !== account.tenantId) return account.id;
  return undefined;
}
