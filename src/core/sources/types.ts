import type { HttpRequest } from '../http';
import type { IdentitySelector } from '../identity';

export type SourceName = 'imds';

/** What every token source yields. */
export interface AccessToken {
  token: string;
  expiresOn: Date;
  /** The resource the endpoint says the token is for, when it says. */
  resource?: string;
  /** The client ID the endpoint reports, when it does. */
  clientId?: string;
}

export interface TokenRequestContext {
  resource: string;
  identity: IdentitySelector;
  env: NodeJS.ProcessEnv;
}

/** One managed identity protocol: how to ask, and what to make of the answer. */
export interface TokenSource {
  name: SourceName;
  /** For messages: "Azure Instance Metadata Service (IMDS)". */
  label: string;
  /** Builds the request (without timeouts, which the caller sets). Throws badInput for an unsupported selector. */
  request(ctx: TokenRequestContext): Omit<HttpRequest, 'timeoutMs'>;
  /** Whether a network failure on the first attempt means "no endpoint here" rather than "retry". */
  probe: boolean;
}
