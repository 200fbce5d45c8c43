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
    'No managed identity endpoint answered (%s: %s). Run this task on an Azure-hosted agent (VM, scale set, Container Apps, App Service, AKS, Arc) that has a managed identity enabled.',
  EndpointTimeout:
    'The managed identity endpoint (%s) did not answer within %s seconds. Check that the agent can reach it, or raise timeoutSeconds.',
  IdentityNotFound:
    'The %s endpoint says: %s. Enable a system-assigned identity on this VM or scale set (Identity blade), or assign the user-assigned identity you asked for and select it with identityType userAssigned.',
  MultipleIdentities:
    'The %s endpoint says: %s. This machine has several user-assigned identities: set identityType to userAssigned and give identityIdType and identityId (client ID, object ID or resource ID) of the one to use.',
  UnknownResource:
    "The %s endpoint does not know the audience '%s' (%s). Check the spelling, or use the application ID GUID or App ID URI of the API you want to call.",
  EndpointRefused:
    'The %s endpoint refused the token request with HTTP %s: %s. Check the identity selection and the audience; run with system.debug=true for the full exchange.',
  ResponseNotJson:
    'The %s endpoint answered HTTP %s with a body that is not JSON (%s bytes). The body is not shown as it may hold a token; run with system.debug=true to see its shape.',
  ResponseNoToken:
    'The %s endpoint answered HTTP %s without an access_token (fields: %s). This is not a token response: check that the endpoint variables point at a managed identity endpoint.',
  ResponseBadExpiry:
    "The %s endpoint answered with an expiry the task cannot read ('%s'). Report this with the host type.",
  ResponseTooLarge:
    'The %s endpoint answered with more than %s bytes; the response was refused. Check that the endpoint variables point at a managed identity endpoint.',
  IdentityMismatch:
    'The token names identity %s, not the %s that was asked for. Check identityIdType and identityId, and which identities are assigned to this machine.',
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
