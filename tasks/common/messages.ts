/**
 * The English text of the messages tasks/common prints. Like the core's
 * messages, `npm run loc` copies them into every task.json, so the two tasks
 * share one wording (a test keeps them identical).
 */
export const COMMON_MESSAGES = {
  ArmEndpointInvalid:
    "The input armEndpoint has the value '%s', which is not an http(s) URL without credentials, query or fragment. Give the Azure Resource Manager URL of your cloud, for example https://management.local.azurestack.external/.",
  InputChoiceInvalid: "The input %s has the value '%s', which is not one of: %s. Use one of those values.",
  MicrosoftHostedNoIdentity:
    'This agent reports Agent.IsSelfHosted = 0: it belongs to an agent cloud, as Microsoft-hosted agents do, and those have no managed identity of yours. Use a self-hosted agent on an Azure VM or scale set that has the identity, a Managed DevOps Pool with the identity assigned (Settings > Identity), or AzureCLI@2 with a workload identity federation service connection.',
  Retrying: 'Attempt %s at %s failed (%s); retrying in %s s.',
  SummarySkipped: "The run summary '%s' was skipped: %s The step goes on without it; it holds no token.",
  UnexpectedError: 'Unexpected error: %s. Run with system.debug=true and report it with the log.',
  VariableNameInvalid:
    "The input %s has the value '%s', which is not a valid variable name for this task. Use letters, digits, '.', '_' or '-', starting with a letter or '_', and not a name the agent or this task sets: nothing in the agent's namespaces (Agent., Build., Release., System., Pipeline., Task., Common., Features., Environment., Resources.), nothing that becomes INPUT_, ENDPOINT_, SECRET_, SECUREFILE_ or VSTS_ in the environment, and not PATH, AZURE_CONFIG_DIR, AZURE_DEVOPS_EXT_PAT, ARM_*, InfoJsonPath or what serveIdentity sets (IDENTITY_ENDPOINT, IDENTITY_HEADER, MSI_ENDPOINT, MSI_SECRET, AZURE_CLIENT_ID).",
} as const;
