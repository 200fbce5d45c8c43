import type { Cloud } from '../clouds';
import type { ManagedIdentityError } from '../errors';
import type { HttpRequest, HttpResponse } from '../http';
import type { IdentitySelector } from '../identity';
import type { NetworkSettings } from '../network';

/** Every token source, in the order they are detected (the order @azure/identity and MSAL use). */
export const SOURCE_NAMES = ['workloadIdentity', 'serviceFabric', 'appService', 'appServiceLegacy', 'cloudShell', 'azureArc', 'imds'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

/** What every token source yields. */
export interface AccessToken {
  token: string;
  expiresOn: Date;
  /** The resource the endpoint says the token is for, when it says. */
  resource?: string;
  /** The client ID the endpoint reports, when it does. */
  clientId?: string;
}

/** Test-only overrides. The tasks never set them, and no input reaches them. */
export interface SourceTestHooks {
  /** The Azure Arc agent's token folder (default /var/opt/azcmagent/tokens, or %ProgramData%\AzureConnectedMachineAgent\Tokens). */
  arcTokenFolder?: string;
  /** The himds binary whose presence means an Azure Arc-enabled server (default /opt/azcmagent/bin/himds, or %ProgramFiles%\AzureConnectedMachineAgent\himds.exe). */
  arcHimdsFile?: string;
  /** The platform whose paths apply (default process.platform): tests give 'win32' to check the Windows paths on any machine. */
  platform?: NodeJS.Platform;
}

export interface SourceContext {
  env: NodeJS.ProcessEnv;
  identity: IdentitySelector;
  hooks: SourceTestHooks;
}

export interface TokenRequestContext extends SourceContext {
  resource: string;
  cloud: Cloud;
  /** The agent's proxy and TLS settings; only sources that leave the machine use them. */
  network?: NetworkSettings;
}

/** A request as a source builds it; the caller adds the timeouts. */
export type OutgoingRequest = Omit<HttpRequest, 'timeoutMs' | 'connectTimeoutMs'>;

export interface PreparedRequest {
  http: OutgoingRequest;
  /** The identity the request names, for the claims check: the selector, or what the source used instead (workload identity: AZURE_CLIENT_ID). */
  names: IdentitySelector;
}

/** One managed identity protocol: when it applies, how to ask, and what to make of the answer. */
export interface TokenSource {
  name: SourceName;
  /** For messages: "Azure Instance Metadata Service (IMDS)". */
  label: string;
  /** The environment that makes this source detected, for messages: "IDENTITY_ENDPOINT and IDENTITY_HEADER". */
  detectedBy: string;
  /** Whether the environment says the agent runs on this kind of host. */
  detect(ctx: SourceContext): boolean;
  /** Builds the request. Throws badInput for a selector it cannot send or a broken environment, before anything is sent. */
  request(ctx: TokenRequestContext): PreparedRequest;
  /** Whether an answer with this status is worth another attempt. */
  retryStatus(status: number): boolean;
  /** Whether a connection failure on the first attempt means "no endpoint here" when the source was auto-detected. */
  probe: boolean;
  /**
   * Whether a user-assigned token is used only when its claims show the identity asked for (else an error, not a
   * warning): for an endpoint whose older versions ignore the selector and answer with another identity.
   */
  confirmsIdentity?: boolean;
  /** The request that answers a challenge (Azure Arc's 401), or undefined when the answer is none. May throw a ManagedIdentityError. */
  challenge?(res: HttpResponse, sent: OutgoingRequest, ctx: TokenRequestContext): OutgoingRequest | undefined;
  /** Advice for a refusal in this protocol's own terms, before the generic mapping. */
  refusal?(res: HttpResponse, ctx: TokenRequestContext, names: IdentitySelector): ManagedIdentityError | undefined;
}
