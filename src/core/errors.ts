/**
 * Errors the core raises. Each carries a message key (see messages.ts) and its
 * arguments, so the tasks can localise it with tl.loc and the command line can
 * print the English text. Every message says what to do next.
 */
import { MessageKey, formatMessage } from './messages';

export type ErrorKind =
  /** The user gave an input the core cannot use; nothing was sent. */
  | 'badInput'
  /**
   * The host's environment is set up wrongly (a malformed endpoint variable, a missing
   * Service Fabric thumbprint, a forced source whose variables are absent); nothing was sent.
   */
  | 'hostSetup'
  /** No managed identity endpoint answered. */
  | 'noEndpoint'
  /** The endpoint answered and refused (identity not found, unknown audience, …). */
  | 'refused'
  /** The deadline or a request timeout passed. */
  | 'timeout'
  /** The endpoint answered with something we cannot use. */
  | 'badResponse';

export class ManagedIdentityError extends Error {
  readonly kind: ErrorKind;
  readonly key: MessageKey;
  readonly args: readonly string[];
  /** The service's correlation or request IDs ("x-ms-request-id …"), kept for a support case; undefined when it gave none. */
  support?: string;

  constructor(kind: ErrorKind, key: MessageKey, ...args: Array<string | number>) {
    const text = args.map(String);
    super(formatMessage(key, text));
    this.name = 'ManagedIdentityError';
    this.kind = kind;
    this.key = key;
    this.args = text;
  }

  /** Keeps the service's IDs with the error, and in its message (see SupportDetails). */
  addSupport(details: string): this {
    this.support = details;
    this.message = `${this.message} ${formatMessage('SupportDetails', [details])}`;
    return this;
  }
}

export function isManagedIdentityError(e: unknown): e is ManagedIdentityError {
  return e instanceof ManagedIdentityError;
}
