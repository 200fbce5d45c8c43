/**
 * What Azure's identity endpoints answer, as documented and as Microsoft's own
 * client libraries test it: our own fixtures, written from those facts, each
 * naming where its facts come from (repository + path, or the documentation
 * page). Run by engine.test.ts through the whole engine (acquireToken against
 * the emulator's scripted answers).
 *
 * Repositories read (public GitHub):
 * - MSAL .NET: AzureAD/microsoft-authentication-library-for-dotnet,
 *   src/client/Microsoft.Identity.Lab.Api/Http/MockHelpers.cs (GetMsiSuccessfulResponse, GetMsiErrorResponse,
 *   GetMsiImdsErrorResponse, CreateInvalidClientResponseMessage), src/client/Microsoft.Identity.Client/Http/Retry/HttpRetryConditions.cs,
 *   ImdsRetryPolicy.cs, DefaultRetryPolicy.cs, ManagedIdentity/MachineLearningManagedIdentitySource.cs
 * - MSAL Python: AzureAD/microsoft-authentication-library-for-python, msal/managed_identity.py
 * - azure-sdk-for-python: sdk/identity/azure-identity/azure/identity/_credentials/azure_ml.py (_parse_expires_on),
 *   _credentials/imds.py (PIPELINE_SETTINGS), tests/test_imds_credential.py (test_imds_request_failure_docker_desktop)
 * - azure-sdk-for-net: sdk/identity/Azure.Identity/tests/ManagedIdentityCredentialTests.cs (Docker Desktop 403 cases)
 * - MSAL Java: AzureAD/microsoft-authentication-library-for-java, ManagedIdentityTests (AzureArc: userAssigned_*),
 *   pull request #1057; msal-node pull request microsoft-authentication-library-for-js#8761
 * - Documentation: learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token
 *   (IMDS answers and errors), learn.microsoft.com/azure/app-service/overview-managed-identity (REST protocol),
 *   learn.microsoft.com/azure/service-fabric/how-to-managed-identity-service-fabric-app-code,
 *   learn.microsoft.com/azure/azure-arc/servers/managed-identity-authentication,
 *   learn.microsoft.com/entra/identity-platform/reference-error-codes (AADSTS codes)
 */
import type { ErrorKind } from '../../src/core/errors';
import type { MessageKey } from '../../src/core/messages';
import type { SourceName } from '../../src/core/sources/types';

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body: unknown;
}

export interface SuccessCase {
  name: string;
  /** Where the facts come from. */
  from: string;
  hosts: readonly SourceName[];
  answer: Answer;
  /** The expiry the engine must read, in epoch seconds (absolute forms), or the lifetime in seconds (expires_in). */
  expiresOn?: number;
  expiresIn?: number;
}

export interface FailureCase {
  name: string;
  from: string;
  hosts: readonly SourceName[];
  answer: Answer;
  kind: ErrorKind;
  /** The message key, when the behaviour pins one; else `matches` says what the message must say. */
  key?: MessageKey;
  matches?: RegExp;
  /** 'once': no retry (the answer is final); 'retried': tried again, with back-off or as Retry-After asks. */
  requests: 'once' | 'retried';
  /** Waits the retries must include (ms, on a fake clock), e.g. Retry-After: 5 gives 5000. */
  sleeps?: number[];
  /** Every wait at least this long (ms). */
  minSleep?: number;
  /** All waits together at least this long (ms): IMDS retries 410 for at least 70 s. */
  totalSleepAtLeast?: number;
  /** The clock for the attempt, epoch ms (default: a fixed 2026 instant). */
  now?: number;
  /**
   * Behaviour being implemented on another branch: the case is data only and stays out of the running test
   * until that branch lands (then delete this field).
   */
  pending?: string;
}

const IMDS_LIKE: readonly SourceName[] = ['imds', 'azureArc'];
const EVERY_LOCAL: readonly SourceName[] = ['imds', 'azureArc', 'appService', 'appServiceLegacy', 'cloudShell', 'serviceFabric'];

/** The token the fixtures carry: not a JWT (the claims check is not what these cases test). */
export const FIXTURE_TOKEN = 'conformance-fixture-access-token-not-a-jwt-0123456789';

/** The 2017-09-01 answer on Windows (azure-sdk-for-python azure_ml.py _parse_expires_on docstring). */
const WINDOWS_2017: Answer = { status: 200, body: { access_token: FIXTURE_TOKEN, expires_on: '1/16/2020 5:24:12 AM +00:00', resource: 'https://vault.azure.net', token_type: 'Bearer' } };

/** App Service's error shape (MSAL .NET MockHelpers.cs GetMsiErrorResponse(AppService)). */
const APP_SERVICE_500: Answer = { status: 500, body: { statusCode: 500, message: 'An unexpected error occured while fetching the AAD Token.', correlationId: '4ce26535-1769-4001-96e3-9019ce00922d' } };

export const SUCCESS_CASES: readonly SuccessCase[] = [
  {
    name: 'IMDS: every field a string, expires_on epoch seconds',
    from: 'learn.microsoft.com how-to-use-vm-token (sample response); MSAL .NET MockHelpers.cs GetMsiSuccessfulResponse',
    hosts: [...IMDS_LIKE, 'cloudShell', 'serviceFabric'],
    answer: {
      status: 200,
      body: {
        access_token: FIXTURE_TOKEN,
        client_id: '00001111-aaaa-2222-bbbb-3333cccc4444',
        expires_in: '86399',
        expires_on: '1893456000',
        ext_expires_in: '86399',
        not_before: '1893369601',
        resource: 'https://management.azure.com/',
        token_type: 'Bearer',
      },
    },
    expiresOn: 1893456000,
  },
  {
    name: 'App Service 2019-08-01: expires_on epoch seconds as a string, client_id echoed',
    from: 'learn.microsoft.com app-service overview-managed-identity (REST protocol, response example); MSAL .NET MockHelpers.cs',
    hosts: ['appService'],
    answer: {
      status: 200,
      body: { access_token: FIXTURE_TOKEN, expires_on: '1893456000', resource: 'https://vault.azure.net', token_type: 'Bearer', client_id: '00001111-aaaa-2222-bbbb-3333cccc4444' },
    },
    expiresOn: 1893456000,
  },
  {
    name: 'App Service 2017-09-01 on Windows: expires_on "M/d/yyyy h:mm:ss AM +00:00"',
    from: 'azure-sdk-for-python azure_ml.py _parse_expires_on docstring ("1/16/2020 5:24:12 AM +00:00")',
    hosts: ['appServiceLegacy'],
    answer: WINDOWS_2017,
    expiresOn: Date.UTC(2020, 0, 16, 5, 24, 12) / 1000,
  },
  {
    name: 'App Service 2017-09-01 on Linux: expires_on "MM/dd/yyyy HH:mm:ss +00:00"',
    from: 'azure-sdk-for-python azure_ml.py _parse_expires_on docstring ("06/20/2019 02:57:58 +00:00")',
    hosts: ['appServiceLegacy'],
    answer: { status: 200, body: { access_token: FIXTURE_TOKEN, expires_on: '06/20/2019 02:57:58 +00:00', resource: 'https://vault.azure.net', token_type: 'Bearer' } },
    expiresOn: Date.UTC(2019, 5, 20, 2, 57, 58) / 1000,
  },
  {
    name: 'Azure Machine Learning: expires_on an integer of epoch seconds',
    from: 'azure-sdk-for-python azure_ml.py ("Azure ML ... returns expires_on as an integer"); MSAL Python managed_identity.py _obtain_token_on_machine_learning',
    hosts: ['appServiceLegacy'],
    answer: { status: 200, body: { access_token: FIXTURE_TOKEN, expires_on: 1893456000, resource: 'https://storage.azure.com/', token_type: 'Bearer' } },
    expiresOn: 1893456000,
  },
  {
    name: 'Service Fabric: expires_on a number',
    from: 'learn.microsoft.com service-fabric how-to-managed-identity-service-fabric-app-code (response example)',
    hosts: ['serviceFabric'],
    answer: { status: 200, body: { token_type: 'Bearer', access_token: FIXTURE_TOKEN, expires_on: 1893456000, resource: 'https://vault.azure.net/' } },
    expiresOn: 1893456000,
  },
  {
    name: 'Service Fabric: expires_on a string',
    from: 'MSAL Python managed_identity.py _obtain_token_on_service_fabric ("Azure SDK team\'s test obtained a string")',
    hosts: ['serviceFabric'],
    answer: { status: 200, body: { token_type: 'Bearer', access_token: FIXTURE_TOKEN, expires_on: '1893456000', resource: 'https://vault.azure.net/' } },
    expiresOn: 1893456000,
  },
  {
    name: 'Cloud Shell: IMDS-shaped, with an empty refresh_token',
    from: 'azure-sdk-for-python tests test_cloud_shell.py (response shape); MSAL .NET CloudShellTests.cs',
    hosts: ['cloudShell'],
    answer: {
      status: 200,
      body: { access_token: FIXTURE_TOKEN, refresh_token: '', expires_in: '3599', expires_on: '1893456000', not_before: '1893452101', resource: 'https://management.azure.com/', token_type: 'Bearer' },
    },
    expiresOn: 1893456000,
  },
  {
    name: 'Microsoft Entra ID v2.0: expires_in a number of seconds from now',
    from: 'learn.microsoft.com entra identity-platform v2-oauth2-client-creds-grant-flow (successful response)',
    hosts: ['workloadIdentity'],
    answer: { status: 200, body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: FIXTURE_TOKEN } },
    expiresIn: 3599,
  },
  {
    name: 'Microsoft Entra ID: expires_in as a string',
    from: 'MSAL .NET MockHelpers.cs GetImdsV2EntraTokenResponse (expires_in "3599")',
    hosts: ['workloadIdentity'],
    answer: { status: 200, body: { token_type: 'Bearer', expires_in: '3599', access_token: FIXTURE_TOKEN, resource: 'https://management.azure.com/' } },
    expiresIn: 3599,
  },
];

const AADSTS500011 =
  'AADSTS500011: The resource principal named https://unknown.example.com was not found in the tenant named Contoso. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.\r\nTrace ID: 2dff494a-0226-4f41-8859-d9f560ca8903\r\nCorrelation ID: 77145480-bc5a-4ebe-ae4d-e4a8b7d727cf\r\nTimestamp: 2022-11-10 23:12:37Z';

/** An Entra ID error answer in its documented shape. */
function entraError(error: string, code: number, text: string): Answer {
  return {
    status: 400,
    body: {
      error,
      error_description: `AADSTS${code}: ${text}\r\nTrace ID: f7ec686c-9196-4220-a754-cd9197de44e9\r\nCorrelation ID: 04bb0cae-580b-49ac-9a10-b6c3316b1eaa\r\nTimestamp: 2026-11-30 12:00:00Z`,
      error_codes: [code],
      timestamp: '2026-11-30 12:00:00Z',
      trace_id: 'f7ec686c-9196-4220-a754-cd9197de44e9',
      correlation_id: '04bb0cae-580b-49ac-9a10-b6c3316b1eaa',
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

const DOCKER_DESKTOP_403 = (ending: string): Answer => ({
  status: 403,
  body: { error: `connecting to 169.254.169.254:80: connecting to 169.254.169.254:80: dial tcp 169.254.169.254:80: connectex: A socket operation was attempted to an unreachable ${ending}.` },
});

export const FAILURE_CASES: readonly FailureCase[] = [
  // IMDS refusals (learn.microsoft.com how-to-use-vm-token, "Error handling").
  {
    name: 'IMDS 400 Identity not found',
    from: 'learn.microsoft.com how-to-use-vm-token (400 invalid_request "Identity not found"); azure-sdk-for-python _credentials/imds.py (400 = no identity)',
    hosts: IMDS_LIKE,
    answer: { status: 400, body: { error: 'invalid_request', error_description: 'Identity not found' } },
    kind: 'refused',
    key: 'IdentityNotFound',
    requests: 'once',
  },
  {
    name: 'IMDS 400 multiple user-assigned identities',
    from: 'learn.microsoft.com how-to-use-vm-token (error handling)',
    hosts: ['imds'],
    answer: {
      status: 400,
      body: { error: 'invalid_request', error_description: 'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request' },
    },
    kind: 'refused',
    key: 'MultipleIdentities',
    requests: 'once',
  },
  {
    name: 'IMDS/Arc/Service Fabric 400 invalid_resource (AADSTS500011, error_codes as a number list)',
    from: 'MSAL .NET MockHelpers.cs GetMsiImdsErrorResponse',
    hosts: [...IMDS_LIKE, 'serviceFabric'],
    answer: {
      status: 400,
      body: { error: 'invalid_resource', error_description: AADSTS500011, error_codes: [500011], timestamp: '2022-11-10 23:12:37Z', trace_id: '2dff494a-0226-4f41-8859-d9f560ca8903', correlation_id: '77145480-bc5a-4ebe-ae4d-e4a8b7d727cf' },
    },
    kind: 'refused',
    key: 'UnknownResource',
    requests: 'once',
  },
  {
    name: 'IMDS/Arc/Service Fabric 400 invalid_resource (error_codes as a string)',
    from: 'MSAL .NET MockHelpers.cs GetMsiErrorResponse (Imds, AzureArc, ServiceFabric: "error_codes":"[500011]")',
    hosts: [...IMDS_LIKE, 'serviceFabric'],
    answer: { status: 400, body: { error: 'invalid_resource', error_description: AADSTS500011, error_codes: '[500011]', trace_id: 'GUID', correlation_id: 'GUID', error_uri: 'errorUri' } },
    kind: 'refused',
    key: 'UnknownResource',
    requests: 'once',
  },
  {
    name: 'IMDS 400 without the Metadata header',
    from: 'learn.microsoft.com how-to-use-vm-token (400 bad_request_102 "Required metadata header not specified")',
    hosts: IMDS_LIKE,
    answer: { status: 400, body: { error: 'bad_request_102', error_description: 'Required metadata header not specified' } },
    kind: 'refused',
    key: 'EndpointRefused',
    requests: 'once',
  },
  {
    name: 'IMDS 404 (not found, or IMDS updating) is retried',
    from: 'learn.microsoft.com how-to-use-vm-token (404: retry with exponential back-off); MSAL .NET HttpRetryConditions.cs Imds',
    hosts: ['imds'],
    answer: { status: 404, body: 'Not Found' },
    kind: 'timeout',
    key: 'EndpointKeptFailing',
    requests: 'retried',
  },
  {
    name: 'IMDS 410 (upgrading) is retried for at least 70 seconds',
    from: 'learn.microsoft.com how-to-use-vm-token (410 for up to 70 s); MSAL .NET ImdsRetryPolicy.cs (410: 7 linear retries, 10 s apart)',
    hosts: ['imds'],
    answer: { status: 410, body: 'Gone' },
    kind: 'timeout',
    key: 'EndpointKeptFailing',
    requests: 'retried',
    totalSleepAtLeast: 70_000,
  },
  {
    name: '429 without Retry-After is retried with back-off',
    from: 'learn.microsoft.com how-to-use-vm-token (429: exponential back-off); MSAL .NET HttpRetryConditions.cs',
    hosts: EVERY_LOCAL,
    answer: { status: 429, body: { error: 'too_many_requests', error_description: 'Too many requests' } },
    kind: 'timeout',
    key: 'EndpointThrottled',
    requests: 'retried',
  },
  {
    name: '429 with Retry-After in seconds waits as asked',
    from: 'MSAL .NET MockHelpers.cs CreateServerErrorMessage(statusCode, retryAfter); DefaultRetryPolicy.cs (Retry-After honoured)',
    hosts: [...EVERY_LOCAL, 'workloadIdentity'],
    answer: { status: 429, headers: { 'Retry-After': '5' }, body: { error: 'too_many_requests' } },
    kind: 'timeout',
    key: 'EndpointThrottled',
    requests: 'retried',
    sleeps: [5000],
  },
  {
    name: '503 with Retry-After as an HTTP date waits until then',
    from: 'RFC 9110 10.2.3 (Retry-After: HTTP-date); MSAL .NET DefaultRetryPolicy.cs (RetryConditionHeaderValue.Date)',
    hosts: EVERY_LOCAL,
    answer: { status: 503, headers: { 'Retry-After': 'Mon, 30 Nov 2026 12:00:07 GMT' }, body: { error: 'temporarily_unavailable' } },
    now: Date.UTC(2026, 10, 30, 12, 0, 0),
    kind: 'timeout',
    key: 'EndpointThrottled',
    requests: 'retried',
    sleeps: [7000],
  },
  {
    name: '500 is retried',
    from: 'MSAL .NET HttpRetryConditions.cs (DefaultManagedIdentity: 500, 503, 504; Imds: 5xx)',
    hosts: [...EVERY_LOCAL, 'workloadIdentity'],
    answer: { status: 500, body: { error: 'server_error', error_description: 'Internal error' } },
    kind: 'timeout',
    key: 'EndpointKeptFailing',
    requests: 'retried',
  },
  {
    name: 'App Service 500 {statusCode, message, correlationId} is retried, then reported',
    from: 'MSAL .NET MockHelpers.cs GetMsiErrorResponse(AppService)',
    hosts: ['appService'],
    answer: APP_SERVICE_500,
    kind: 'timeout',
    key: 'EndpointKeptFailing',
    matches: /An unexpected error occured while fetching the AAD Token/,
    requests: 'retried',
  },
  {
    name: 'App Service 400 "Unable to load the proper Managed Identity."',
    from: 'MSAL Python managed_identity.py _obtain_token_on_app_service ({statusCode, message}); App Service REST protocol',
    hosts: ['appService', 'appServiceLegacy'],
    answer: { status: 400, body: { statusCode: 400, message: 'Unable to load the proper Managed Identity.', correlationId: '7f0ac1a2-4a4c-4c4b-9f52-9d8e0d3b0f11' } },
    kind: 'refused',
    key: 'IdentityNotFound',
    requests: 'once',
  },
  {
    name: 'App Service 400 with AADSTS500011 in its message',
    from: 'MSAL Python managed_identity.py (wrong resource: {statusCode, message}); MSAL .NET AppServiceTests.cs',
    hosts: ['appService'],
    answer: { status: 400, body: { statusCode: 400, message: AADSTS500011, correlationId: '7f0ac1a2-4a4c-4c4b-9f52-9d8e0d3b0f11' } },
    kind: 'refused',
    key: 'UnknownResource',
    requests: 'once',
  },
  {
    name: 'Cloud Shell 400 AudienceNotSupported ({error: {code, message}})',
    from: 'MSAL .NET MockHelpers.cs GetMsiErrorResponse(CloudShell)',
    hosts: ['cloudShell'],
    answer: {
      status: 400,
      body: { error: { code: 'AudienceNotSupported', message: 'Audience scope is not a supported MSI token audience.Supported audiences:https://management.core.windows.net/,https://management.azure.com/,https://vault.azure.net' } },
    },
    kind: 'refused',
    key: 'UnknownResource',
    requests: 'once',
  },
  // Microsoft Entra ID (workload identity), AADSTS codes from learn.microsoft.com reference-error-codes.
  {
    name: 'Entra 400 AADSTS700211 no federated credential for the issuer',
    from: 'learn.microsoft.com reference-error-codes (AADSTS700211 NoMatchingFederatedIdentityRecordIssuer); body shape: MSAL .NET MockHelpers.cs CreateFailureTokenResponseMessage',
    hosts: ['workloadIdentity'],
    answer: entraError('invalid_request', 700211, "No matching federated identity record found for presented assertion issuer 'https://oidc.example.com/'."),
    kind: 'refused',
    key: 'EntraIssuerMismatch',
    requests: 'once',
  },
  {
    name: 'Entra 400 AADSTS70021 no federated credential for the subject',
    from: 'learn.microsoft.com reference-error-codes (AADSTS70021 NoMatchingFederatedIdentityRecord)',
    hosts: ['workloadIdentity'],
    answer: entraError('invalid_request', 70021, 'No matching federated identity record found for presented assertion.'),
    kind: 'refused',
    key: 'EntraNoFederatedCredential',
    requests: 'once',
  },
  {
    name: 'Entra 400 AADSTS700016 application not found',
    from: 'learn.microsoft.com reference-error-codes (AADSTS700016 UnauthorizedClient_DoesNotMatchRequest)',
    hosts: ['workloadIdentity'],
    answer: entraError('unauthorized_client', 700016, "Application with identifier '00001111-aaaa-2222-bbbb-3333cccc4444' was not found in the directory 'Contoso'."),
    kind: 'refused',
    key: 'EntraClientNotFound',
    requests: 'once',
  },
  {
    name: 'Entra 400 AADSTS90002 tenant not found',
    from: 'learn.microsoft.com reference-error-codes (AADSTS90002 InvalidTenantName)',
    hosts: ['workloadIdentity'],
    answer: entraError('invalid_request', 90002, "Tenant 'contoso.example' not found."),
    kind: 'refused',
    key: 'EntraTenantNotFound',
    requests: 'once',
  },
  {
    name: 'Entra 400 AADSTS700024 assertion outside its validity',
    from: 'learn.microsoft.com reference-error-codes (AADSTS700024 ClientAssertionNotWithinValidTimeRange)',
    hosts: ['workloadIdentity'],
    answer: entraError('invalid_client', 700024, 'Client assertion is not within its valid time range.'),
    kind: 'refused',
    key: 'EntraAssertionExpired',
    requests: 'once',
  },
  {
    name: 'Entra 400 AADSTS500011 resource principal not found',
    from: 'learn.microsoft.com reference-error-codes (AADSTS500011 InvalidResourceServicePrincipalNotFound)',
    hosts: ['workloadIdentity'],
    answer: entraError('invalid_resource', 500011, 'The resource principal named https://unknown.example.com was not found in the tenant named Contoso.'),
    kind: 'refused',
    key: 'UnknownResource',
    requests: 'once',
  },
  {
    name: 'Entra 401 AADSTS7000218 invalid_client (no advice of its own)',
    from: 'MSAL .NET MockHelpers.cs CreateInvalidClientResponseMessage',
    hosts: ['workloadIdentity'],
    answer: { ...entraError('invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."), status: 401 },
    kind: 'refused',
    key: 'EndpointRefused',
    requests: 'once',
  },

  // Issue 12's engine fixes 2, 3, 5 and 6 (throttling, expired tokens, Docker Desktop's 403, support IDs), and issue 11's retry floor.
  {
    name: 'IMDS 403 from Docker Desktop "unreachable network" means no managed identity here (fix 5)',
    from: 'azure-sdk-for-python tests/test_imds_credential.py test_imds_request_failure_docker_desktop; azure-sdk-for-net ManagedIdentityCredentialTests.cs',
    hosts: ['imds'],
    answer: DOCKER_DESKTOP_403('network'),
    kind: 'noEndpoint',
    key: 'NoEndpoint',
    requests: 'once',
  },
  {
    name: 'IMDS 403 from Docker Desktop "unreachable host" (fix 5)',
    from: 'azure-sdk-for-python tests/test_imds_credential.py test_imds_request_failure_docker_desktop (error_ending "host")',
    hosts: ['imds'],
    answer: DOCKER_DESKTOP_403('host'),
    kind: 'noEndpoint',
    key: 'NoEndpoint',
    requests: 'once',
  },
  {
    name: '429 whose Retry-After is longer than the time left ends as throttling, not a timeout (fix 2)',
    from: 'issue 12 engine fix 2; MSAL .NET MockHelpers.cs TestRetryAfterDuration (120 s)',
    hosts: [...EVERY_LOCAL, 'workloadIdentity'],
    answer: { status: 429, headers: { 'Retry-After': '600' }, body: { error: 'too_many_requests' } },
    kind: 'timeout',
    key: 'EndpointThrottled',
    matches: /Retry-After: 600 seconds/,
    requests: 'once',
  },
  {
    name: '503 with Retry-After: 0 still waits the back-off (retry floor)',
    from: 'MSAL .NET LinearRetryStrategy.cs (Retry-After 0 falls back to the default delay)',
    hosts: EVERY_LOCAL,
    answer: { status: 503, headers: { 'Retry-After': '0' }, body: { error: 'temporarily_unavailable' } },
    kind: 'timeout',
    key: 'EndpointThrottled',
    requests: 'retried',
    minSleep: 800,
  },
  {
    name: 'App Service 500 keeps its correlationId in the message (fix 6)',
    from: 'MSAL .NET MockHelpers.cs GetMsiErrorResponse(AppService)',
    hosts: ['appService'],
    answer: APP_SERVICE_500,
    kind: 'timeout',
    key: 'EndpointKeptFailing',
    matches: /4ce26535-1769-4001-96e3-9019ce00922d/,
    requests: 'retried',
  },
  {
    name: 'Entra refusal keeps its correlation_id in the message (fix 6)',
    from: 'MSAL .NET MockHelpers.cs CreateInvalidClientResponseMessage (correlation_id, trace_id)',
    hosts: ['workloadIdentity'],
    answer: { status: 400, body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.', error_codes: [7000215], trace_id: '21c3e4db-d2fd-44f7-a3e0-5939f84e6000', correlation_id: 'f11508ab-067f-40d4-83cb-ccc67bf57e45' } },
    kind: 'refused',
    key: 'EndpointRefused',
    matches: /f11508ab-067f-40d4-83cb-ccc67bf57e45/,
    requests: 'once',
  },
  {
    name: 'A token that has already expired is an error naming the expiry (fix 3)',
    from: 'issue 12 engine fix 3; App Service 2017-09-01 date form (azure-sdk-for-python azure_ml.py)',
    hosts: ['appServiceLegacy'],
    answer: WINDOWS_2017,
    now: Date.UTC(2026, 10, 30, 12, 0, 0),
    kind: 'badResponse',
    key: 'TokenExpired',
    matches: /2020/,
    requests: 'once',
  },
];

/**
 * Which statuses each client retries, per its source. Ours is asserted; the others are data from their sources,
 * and the test checks that we never give up on a status Microsoft's clients would retry.
 * - MSAL .NET: HttpRetryConditions.cs (DefaultManagedIdentity: 404, 408, 429, 500, 503, 504; Imds: 404, 408, 410, 429, 5xx).
 * - azure-identity (Python) IMDS: _credentials/imds.py PIPELINE_SETTINGS retry_on_status_codes [404, 429] + 5xx
 *   (410 handled by its own 70 s policy).
 * Where they disagree: MSAL Python's managed_identity.py notes Service Fabric advises not to retry 404, and MSAL .NET
 * retries 404 there; we follow MSAL .NET (a 404 while the token service starts is transient). MSAL .NET's STS policy
 * does not retry a 5xx that carries Retry-After (it leaves throttling to the caller); we retry as Retry-After asks,
 * within timeoutSeconds.
 */
export const RETRY_TABLE: ReadonlyArray<{ status: number; imds: boolean; others: boolean; msalNetImds: boolean; msalNetDefault: boolean; azureIdentityPythonImds: boolean }> = [
  { status: 400, imds: false, others: false, msalNetImds: false, msalNetDefault: false, azureIdentityPythonImds: false },
  { status: 401, imds: false, others: false, msalNetImds: false, msalNetDefault: false, azureIdentityPythonImds: false },
  { status: 403, imds: false, others: false, msalNetImds: false, msalNetDefault: false, azureIdentityPythonImds: false },
  { status: 404, imds: true, others: true, msalNetImds: true, msalNetDefault: true, azureIdentityPythonImds: true },
  { status: 408, imds: true, others: true, msalNetImds: true, msalNetDefault: true, azureIdentityPythonImds: false },
  { status: 410, imds: true, others: false, msalNetImds: true, msalNetDefault: false, azureIdentityPythonImds: true },
  { status: 429, imds: true, others: true, msalNetImds: true, msalNetDefault: true, azureIdentityPythonImds: true },
  { status: 500, imds: true, others: true, msalNetImds: true, msalNetDefault: true, azureIdentityPythonImds: true },
  { status: 501, imds: true, others: true, msalNetImds: true, msalNetDefault: false, azureIdentityPythonImds: true },
  { status: 502, imds: true, others: true, msalNetImds: true, msalNetDefault: false, azureIdentityPythonImds: true },
  { status: 503, imds: true, others: true, msalNetImds: true, msalNetDefault: true, azureIdentityPythonImds: true },
  { status: 504, imds: true, others: true, msalNetImds: true, msalNetDefault: true, azureIdentityPythonImds: true },
];

/** An unsigned JWT with these claims (nothing verifies the signature; the engine reads the claims). */
export function fixtureJwt(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ typ: 'JWT', alg: 'RS256' })}.${part(claims)}.${Buffer.from('conformance-fixture-signature').toString('base64url')}`;
}

/** The Arc-enabled machine of the Arc cases: its system-assigned identity and one user-assigned identity. */
export const ARC_MACHINE = {
  system: { clientId: '1a2b3c4d-0000-4000-8000-000000000001', objectId: '1a2b3c4d-0000-4000-8000-000000000002', resourceId: '/subscriptions/00000000-1111-4222-8333-444444444444/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/machines/arc-01' },
  user: { clientId: '5e6f7a8b-0000-4000-8000-000000000003', objectId: '5e6f7a8b-0000-4000-8000-000000000004', resourceId: '/subscriptions/00000000-1111-4222-8333-444444444444/resourcegroups/rg-arc/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami-arc' },
} as const;

type ArcIdentity = (typeof ARC_MACHINE)['system' | 'user'];
const arcToken = (i: ArcIdentity) => fixtureJwt({ aud: 'https://management.azure.com/', appid: i.clientId, oid: i.objectId, xms_mirid: i.resourceId, exp: 1893456000 });

export interface ArcUserAssignedCase {
  name: string;
  from: string;
  /** The selector asked for (of ARC_MACHINE.user). */
  by: 'clientId' | 'objectId' | 'resourceId';
  /** Whose token the answer carries, and which echo fields it adds. */
  tokenOf: 'system' | 'user';
  echo: Record<string, string>;
  /** Whether the engine uses the token; when not, it fails with IdentityNotConfirmed. */
  accepted: boolean;
  /** Where MSAL (echo-based) decides otherwise, and why we follow the claims. */
  note?: string;
}

/** The answers of Azure Arc agents to a user-assigned request: MSAL Java ManagedIdentityTests (AzureArc userAssigned_*), PR #1057; msal-node PR #8761. */
export const ARC_USER_ASSIGNED_CASES: readonly ArcUserAssignedCase[] = [
  { name: 'a current agent honours client_id and echoes it', from: 'MSAL Java ManagedIdentityTests userAssignedClientId_Honored', by: 'clientId', tokenOf: 'user', echo: { client_id: ARC_MACHINE.user.clientId }, accepted: true },
  { name: 'a current agent honours object_id and echoes it', from: 'MSAL Java ManagedIdentityTests userAssignedObjectId_Honored', by: 'objectId', tokenOf: 'user', echo: { object_id: ARC_MACHINE.user.objectId }, accepted: true },
  { name: 'a current agent honours msi_res_id and echoes it', from: 'MSAL Java ManagedIdentityTests userAssignedResourceId_ForwardsMsiResIdAndHonored', by: 'resourceId', tokenOf: 'user', echo: { msi_res_id: ARC_MACHINE.user.resourceId }, accepted: true },
  { name: 'the resource ID echoed only as mi_res_id', from: 'MSAL Java ManagedIdentityTests userAssignedResourceId_AcceptsMiResIdAlias_Honored', by: 'resourceId', tokenOf: 'user', echo: { mi_res_id: ARC_MACHINE.user.resourceId }, accepted: true },
  {
    name: 'a legacy agent ignores the selector and answers for the machine (client_id of the system identity)',
    from: 'MSAL Java ManagedIdentityTests userAssigned_NotConfirmed_FailsClosed; MSAL .NET PR #6128',
    by: 'clientId',
    tokenOf: 'system',
    echo: { client_id: ARC_MACHINE.system.clientId },
    accepted: false,
  },
  { name: 'a legacy agent with no echo at all', from: 'MSAL Java ManagedIdentityTests userAssigned_MissingEcho_FailsClosed', by: 'objectId', tokenOf: 'system', echo: {}, accepted: false },
  {
    name: 'an echo that claims the identity on a token for the machine',
    from: 'our own case beside MSAL Java ManagedIdentityTests userAssignedResourceId_* (echo-based): the echo and the token disagree',
    by: 'resourceId',
    tokenOf: 'system',
    echo: { msi_res_id: ARC_MACHINE.user.resourceId },
    accepted: false,
    note: 'MSAL would accept a matching echo; the token is for the machine, and we read the token',
  },
  {
    name: 'the right token without an echo',
    from: 'MSAL Java ManagedIdentityTests userAssigned_MissingEcho_FailsClosed',
    by: 'clientId',
    tokenOf: 'user',
    echo: {},
    accepted: true,
    note: 'MSAL fails closed without an echo (the token is opaque to it); its claims show the identity asked for',
  },
];

export function arcAnswer(c: ArcUserAssignedCase): Answer {
  const token = arcToken(ARC_MACHINE[c.tokenOf]);
  return { status: 200, body: { access_token: token, expires_in: '86399', expires_on: '1893456000', not_before: '1893369601', resource: 'https://management.azure.com/', token_type: 'Bearer', ...c.echo } };
}
