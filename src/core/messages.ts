/**
 * The English text of every message the core can produce. The keys are shared
 * with each task.json's "messages" (a test keeps them identical), so the tasks
 * print them through tl.loc and the command line through formatMessage.
 * Placeholders are %s, in order, as tl.loc (util.format) expects.
 */
export const MESSAGES = {
  AudienceEmpty:
    'The audience input is empty. Choose a preset such as AzureResourceManager, or type a resource URI (https://management.azure.com/), an App ID URI (api://my-app), an application ID GUID, or one scope ending in /.default.',
  AudienceSeveralScopes:
    "The audience '%s' holds more than one scope. A managed identity token is issued for one resource: give one value, for example https://graph.microsoft.com/.default.",
  AudienceMalformed:
    "The audience '%s' is not a resource URI, an App ID URI, a GUID or a '<resource>/.default' scope. Example: https://management.azure.com/ or api://my-app.",
  IdentityIdMissing:
    'identityId is empty. With identityType userAssigned, give the %s of the user-assigned identity (Azure portal: Managed Identities > your identity > Overview).',
  IdentityIdNotGuid:
    "identityId '%s' is not a GUID, but identityIdType is %s. Give the GUID shown on the identity's Overview page, or set identityIdType to resourceId.",
  IdentityIdNotResourceId:
    "identityId '%s' is not a user-assigned identity resource ID. Expected /subscriptions/<subscription-guid>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>.",
  TimeoutInvalid: "timeoutSeconds '%s' is not a positive whole number of seconds. Use for example 120.",
  NoEndpoint:
    'No managed identity endpoint answered (%s: %s). Run it on an Azure machine with a managed identity enabled: a self-hosted agent on a VM or scale set, a Managed DevOps Pool with an identity, Container Apps, App Service, AKS with workload identity, or an Arc-enabled server.',
  EndpointTimeout:
    'The managed identity endpoint (%s) did not answer within %s seconds. Check that the agent can reach it, or raise timeoutSeconds.',
  EndpointThrottled:
    'The %s endpoint is throttling the token requests: its last answer was HTTP %s (%s; Retry-After: %s) with %s seconds of timeoutSeconds left. Raise timeoutSeconds so the task can wait as long as the endpoint asks, or run fewer parallel jobs on this machine: they share its managed identity endpoint\'s request limit.',
  EndpointKeptFailing:
    'The %s endpoint kept answering HTTP %s (%s) until the retries or timeoutSeconds ran out. That answer usually passes (the endpoint is starting, being updated or busy): run again in a few minutes, or raise timeoutSeconds; if it persists, check that the endpoint variables point at a managed identity endpoint.',
  IdentityNotFound:
    'The %s endpoint says: %s. Enable a system-assigned identity on this VM or scale set (Identity blade), or assign the user-assigned identity you asked for and select it with identityType userAssigned.',
  MultipleIdentities:
    'The %s endpoint says: %s. This machine has several user-assigned identities: set identityType to userAssigned and give identityIdType and identityId (client ID, object ID or resource ID) of the one to use. ManagedIdentityInfo@1 lists them with their IDs in its Identities section (when the identity may read its VM or scale set).',
  UnknownResource:
    "The %s endpoint does not know the audience '%s' (%s). Check the spelling, or use the application ID GUID or App ID URI of the API you want to call.",
  EndpointRefused:
    'The %s endpoint refused the token request with HTTP %s: %s. Check the identity selection and the audience; run with system.debug=true for the full exchange.',
  SupportDetails: 'Support details (give them to Azure support if you open a case): %s.',
  ResponseNotJson:
    'The %s endpoint answered HTTP %s with a body that is not JSON (%s bytes). The body is not shown as it may hold a token; run with system.debug=true to see its shape.',
  ResponseNoToken:
    'The %s endpoint answered HTTP %s without an access_token (fields: %s). This is not a token response: check that the endpoint variables point at a managed identity endpoint.',
  ResponseBadExpiry:
    "The %s endpoint answered with an expiry the task cannot read ('%s'). Report this with the host type.",
  ResponseTooLarge:
    'The %s endpoint answered with more than %s bytes; the response was refused. Check that the endpoint variables point at a managed identity endpoint.',
  TokenExpired:
    "The %s endpoint gave a token that expired at %s, before this machine's time (%s). The endpoint's token cache or this machine's clock is wrong: check the clock's time synchronisation (on the agent machine and its host), then run again.",
  TokenExpiresSoon:
    'The token expires at %s, in %s seconds: later steps may not be able to use it. Endpoints refresh tokens well before they expire, so the endpoint\'s token cache or this machine\'s clock may be wrong; check the clock, or get the token again right before the step that needs it.',
  IdentityMismatch:
    'The token names identity %s, not the %s that was asked for. Check identityIdType and identityId, and which identities are assigned to this machine.',
  IdentityNotConfirmed:
    "The %s endpoint answered with a token that is not for the identity asked for, %s (its claims show %s); the token was not used. An Azure Connected Machine agent without user-assigned identity support ignores the selection and returns the machine's system-assigned identity: update the agent (azcmagent), check that the identity is assigned to the machine, or use identityType systemAssigned.",
  IdentitySourceInvalid:
    "identitySource '%s' is not one of: %s. Use auto to detect the host from the agent's environment.",
  SourceNotConfigured:
    'identitySource is %s, but the agent\'s environment lacks %s. Run on that kind of host, or set identitySource to auto.',
  EndpointVariableInvalid:
    "The environment variable %s holds '%s', which is not an %s URL on one line without a user name or password. It is set by the Azure host; check the agent's environment.",
  SelectorUnsupported:
    'The %s endpoint cannot select a user-assigned identity by %s. Use %s, or choose another identitySource.',
  WorkloadIdentityTenantInvalid:
    "AZURE_TENANT_ID '%s' is not a tenant ID (GUID) or domain name. Set it to the directory (tenant) ID of the workload identity.",
  AuthorityNotHttps:
    "%s is '%s', not an https URL. The federated token (AZURE_FEDERATED_TOKEN_FILE) is only sent to Microsoft Entra ID over https (plain http only to a loopback address); nothing was sent. Set AZURE_AUTHORITY_HOST to the https authority of your cloud, for example https://login.microsoftonline.com, or unset it.",
  FederatedTokenFileUnreadable:
    "The federated token file '%s' (AZURE_FEDERATED_TOKEN_FILE) cannot be read or is empty (%s). Check that the service account token volume is mounted into the agent's pod.",
  SecretFileNotRegular:
    "Refusing to write to '%s': it is %s. Name a regular file or a new path (its folder must exist); the file is written with mode 0600 and replaced whole.",
  EntraIssuerMismatch:
    'Microsoft Entra ID found no federated credential on client %s whose issuer matches the token in AZURE_FEDERATED_TOKEN_FILE (%s). Add a federated credential whose issuer is exactly the cluster\'s OIDC issuer URL (az aks show --query oidcIssuerProfile.issuerUrl), or correct AZURE_CLIENT_ID.',
  EntraNoFederatedCredential:
    "Microsoft Entra ID found no federated credential on client %s matching the token's subject and audience (%s). Add one with subject system:serviceaccount:<namespace>:<service account> of the agent's pod and audience api://AzureADTokenExchange; matching is case-sensitive.",
  EntraClientNotFound:
    'Microsoft Entra ID does not know client %s in the tenant (%s). Check AZURE_CLIENT_ID (or identityId) and AZURE_TENANT_ID: give the client ID of the identity or app registration that holds the federated credential.',
  EntraTenantNotFound:
    'Microsoft Entra ID does not know the tenant %s (%s). Check AZURE_TENANT_ID and, for a sovereign cloud, AZURE_AUTHORITY_HOST or the cloud input.',
  EntraAssertionExpired:
    'The token in AZURE_FEDERATED_TOKEN_FILE has expired or is not yet valid (%s). The kubelet refreshes it: check that the projected service account token is mounted and current, and the agent clock.',
  EntraAssertionInvalid:
    'Microsoft Entra ID cannot read the token in AZURE_FEDERATED_TOKEN_FILE (%s). The file must hold the projected service account token (a JWT) of the agent\'s pod.',
  ArcChallengeMissing:
    'The Azure Arc endpoint answered HTTP 401 without a "WWW-Authenticate: Basic realm=<key file>" challenge. Check that IDENTITY_ENDPOINT points at the local Azure Connected Machine agent (himds).',
  ArcKeyFileRefused:
    "The Azure Arc endpoint asked for the key file '%s', which is not a .key file directly inside %s. It was not read and nothing was sent. Check that IDENTITY_ENDPOINT points at the local Azure Connected Machine agent (himds).",
  ArcKeyFileTooLarge:
    "The Azure Arc key file '%s' is %s bytes, more than the %s a key file can be. It was not sent. Check the Azure Connected Machine agent's installation.",
  ArcKeyFileUnreadable:
    "The Azure Arc key file '%s' cannot be read (%s). Only administrators and the himds group may read the agent's tokens: run the agent as a user in the himds group (Linux) or as an administrator (Windows).",
  PrivateAccessFailed:
    "Could not make '%s' private to the agent's user %s (icacls exit %s: %s). Nothing secret was written to it. Check that the agent's user owns its temporary folder (Agent.TempDirectory) and may change permissions there.",
  PrivateAccessNoUser:
    "Could not tell which Windows user runs the agent (whoami /user: %s; USERNAME is not set), so no secret file was made private to it. Run the agent as a user account or service account with a profile.",
  ThumbprintMismatch:
    'The %s endpoint presented a certificate with SHA-1 thumbprint %s, not the %s in IDENTITY_SERVER_THUMBPRINT. The connection was refused before anything was sent: check that IDENTITY_ENDPOINT points at the local Service Fabric token service.',
  ThumbprintInvalid:
    "IDENTITY_SERVER_THUMBPRINT '%s' is not a SHA-1 thumbprint (40 hexadecimal digits). It is set by Service Fabric; check the agent's environment.",
  TlsFailed:
    "The TLS connection to %s failed (%s). If the agent reaches the internet through a TLS-inspecting proxy, configure that proxy's CA certificate for the agent.",
  BearerNotHttps:
    'Refusing to send a token to %s: tokens are only sent over https, or over plain http to a loopback address (127.0.0.1, ::1, localhost). Use the https URL of the endpoint.',
  ServiceUnreachable:
    "%s (%s) could not be reached: %s. Check the agent's network access to it: DNS, firewall, and the agent's proxy settings.",
  ServiceTimeout: "%s (%s) did not answer within %s seconds. Check the agent's network access to it, or raise timeoutSeconds.",
  ServiceTls:
    'The TLS connection to %s (%s) failed: %s. If a proxy inspects TLS traffic, give the agent its CA certificate (agent setting Agent.CAInfo).',
  ServiceResponseTooLarge: '%s answered with more than %s bytes; the answer was refused. Check that the endpoint is the right one for the cloud.',
  ServiceNotJson:
    '%s answered HTTP %s with a body that is not JSON (%s bytes) from %s. Check that the cloud (and for Custom, armEndpoint) points at the right endpoint.',
  NextLinkRepeated:
    '%s returned a nextLink it had already returned, after %s pages; paging stopped to avoid an endless loop. Run again; if it happens again, report it to Azure support.',
  NextLinkOtherHost:
    '%s returned a nextLink on another host (%s); the token is not sent there and paging stopped. Check that the cloud (and for Custom, armEndpoint) names the endpoint that answers, or report it.',
  TooManyPages: '%s returned more than %s pages; paging stopped. The list is incomplete: narrow it (another resource group), or report it.',
  ArmAuthorizationFailed:
    'Azure Resource Manager refused: the identity (object ID %s) may not perform %s on %s. Assign it the %s role on that scope (Access control (IAM) > Add role assignment, or: az role assignment create --assignee-object-id %s --assignee-principal-type ServicePrincipal --role "%s" --scope %s). New role assignments can take a few minutes to apply.',
  ArmTokenAudience:
    "Azure Resource Manager at %s does not accept the token's audience %s (%s). Choose the cloud the subscription is in; with cloud Custom, set armAudience to the audience this Resource Manager expects.",
  ArmTokenExpired: "Azure Resource Manager says the token has expired (%s). Check that the agent's clock is right (time synchronisation), then run again.",
  ArmResourceGroupNotFound:
    "Resource group '%s' was not found in subscription %s (%s). Check the resourceGroup and subscriptionId inputs; on an Azure VM they default to the VM's own.",
  ArmResourceNotFound: 'Azure Resource Manager found nothing at %s (%s). Check the name, the resource group and the subscription.',
  ArmSubscriptionNotFound:
    'Subscription %s was not found, or this identity has no role in it (%s). Check subscriptionId and the cloud, and give the identity a role in the subscription, for example Reader on its resource group.',
  ArmThrottled:
    'Azure Resource Manager kept throttling the requests (%s). Run again later, or raise timeoutSeconds so the task can wait as long as Retry-After asks.',
  ArmRefused: 'Azure Resource Manager answered HTTP %s to GET %s: %s. Check the subscriptionId, resourceGroup and cloud inputs.',
  InstanceMetadataUnavailable:
    'The Instance Metadata Service (%s) did not answer: %s. The agent is not on an Azure VM or scale set, so there is no instance metadata.',
  InstanceMetadataRefused: 'The Instance Metadata Service answered HTTP %s: %s. Run again; if it persists, restart the VM agent or report it.',
  ScopeRequired:
    'subscriptionId and resourceGroup are needed, and their defaults come from the Instance Metadata Service, which is not available here (%s). Give both inputs.',
  SectionUnknown: "sections holds '%s', which is not a section. Use any of: %s (comma separated), or leave it empty for all that apply.",
  SubscriptionIdInvalid: "subscriptionId '%s' is not a subscription ID (a GUID). Azure portal: Subscriptions > your subscription > Overview.",
  ResourceGroupInvalid:
    "resourceGroup '%s' is not a resource group name (1 to 90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.').",
  KeyVaultNamesMissing: 'The keyVault section was asked for, but keyVaultNames is empty. Give one or more vault names or resource IDs.',
  VaultNameInvalid:
    "keyVaultNames holds '%s', which is neither a Key Vault name (3 to 24 letters, digits and hyphens, starting with a letter) nor a vault resource ID (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.KeyVault/vaults/<name>).",
  VaultNotFound:
    "No Key Vault named '%s' is visible to this identity in subscription %s. Check the name, give the vault's full resource ID, or give the identity Reader on the vault so that it can find it.",
  KeyVaultForbiddenByRbac:
    'Key Vault %s refused (ForbiddenByRbac): the vault uses Azure RBAC and the identity (object ID %s) has no role there that allows listing secrets. Assign Key Vault Secrets User (names and values) or Key Vault Reader (names only) on the vault: az role assignment create --assignee-object-id %s --assignee-principal-type ServicePrincipal --role "Key Vault Secrets User" --scope %s',
  KeyVaultAccessDenied:
    'Key Vault %s refused (AccessDenied): the vault uses access policies and the identity (object ID %s) has none with the secret permission List. Add one with the secret permissions Get and List (az keyvault set-policy --name %s --object-id %s --secret-permissions get list), or switch the vault to Azure RBAC.',
  KeyVaultForbiddenByFirewall:
    "Key Vault %s refused the request at its firewall (ForbiddenByFirewall; the agent's address as the vault sees it: %s). Allow that address or the agent's subnet under the vault's Networking settings, or reach the vault through a private endpoint.",
  KeyVaultForbiddenByConnection:
    "Key Vault %s refused the request (ForbiddenByConnection): its public network access is disabled. Reach it through a private endpoint from the agent's network, or enable public access from selected networks.",
  KeyVaultForbidden: 'Key Vault %s refused the request (HTTP 403, %s): %s. Check the vault\'s access configuration for this identity.',
  KeyVaultUnauthorized:
    "Key Vault %s did not accept the token (HTTP 401) even for the resource it asked for (%s, authority %s): %s. Check that the vault belongs to the identity's tenant (%s).",
  KeyVaultRefused: 'Key Vault %s answered HTTP %s: %s. Check the vault name and run again.',
  KeyVaultChallengeMismatch:
    'Key Vault %s asked for a token for %s, which does not belong to its host %s; no token was sent for it. Check that the vault URI is a Key Vault of this cloud.',
  CloudMismatch:
    'This VM runs in %s, but the cloud input is %s: Resource Manager and Key Vault calls go to the wrong cloud. Set cloud to %s.',
  VaultOtherTenant:
    "Key Vault %s belongs to tenant %s, but the identity is in tenant %s: the vault's data plane will not accept the identity's tokens. Use an identity of the vault's tenant, or a vault in the identity's tenant.",
  EndpointBaseInvalid:
    "The environment variable %s holds '%s', a URL with a query ('?') or fragment ('#'); it must be a base URL such as http://169.254.169.254 (scheme, host, port, at most a path). Nothing was sent; correct the agent's environment.",
  HeaderValueInvalid:
    "%s holds a line break or another control character, which cannot be sent in an HTTP header. Nothing was sent. It is set by the Azure host: check the agent's environment (or the file) for a stray character.",
  NextLinkInvalid:
    "%s returned a nextLink that is not a URL ('%s'); paging stopped and the list is incomplete. Run again; if it happens again, report it to Azure support.",
} as const;

export type MessageKey = keyof typeof MESSAGES;

/** A message to show later, in the reader's language. */
export interface Message {
  key: MessageKey;
  args: string[];
}

export function formatMessage(key: MessageKey, args: readonly string[]): string {
  let i = 0;
  return MESSAGES[key].replace(/%s/g, () => (i < args.length ? args[i++] : '%s'));
}
