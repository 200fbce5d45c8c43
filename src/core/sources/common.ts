/**
 * What the token sources share: reading an endpoint from the environment,
 * mapping an identity selector to a source's own parameter (or refusing it
 * before anything is sent), and which answers are worth retrying.
 */
import { ErrorKind, ManagedIdentityError } from '../errors';
import { IdentityIdType, identityIdLabel, IdentitySelector } from '../identity';
import { checkUrl } from '../url';

/** 404, 408, 429 and 5xx: what every managed identity endpoint may answer while it is busy or starting. */
export function transientStatus(status: number): boolean {
  return status === 404 || status === 408 || status === 429 || (status >= 500 && status <= 599);
}

export function isSet(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

/** An environment variable's value as a message may show it: no credentials, on one line. */
export function shown(raw: string): string {
  return raw.replace(/\/\/[^/]*@/, '//***@').replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

/** The URL in an environment variable, under the safe-URL rules (url.ts); hostSetup when it breaks them, naming the variable. */
export function endpointUrl(env: NodeJS.ProcessEnv, name: string, scheme: 'http(s)' | 'https' = 'http(s)'): URL {
  const raw = env[name] ?? '';
  const url = checkUrl(raw, { scheme });
  // Never repeat credentials a URL may carry.
  if (typeof url === 'string') throw new ManagedIdentityError('hostSetup', 'EndpointVariableInvalid', name, shown(raw.trim()), scheme);
  return url;
}

/**
 * The base URL in an environment variable, or `fallback` when it is not set,
 * without a trailing slash. Paths are appended to it as text, so besides what
 * endpointUrl refuses, a query ('?') or a fragment ('#') is refused.
 */
export function baseUrl(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  if (!isSet(env[name])) return fallback;
  const url = checkUrl(env[name], { base: true });
  if (url === 'notBase') throw new ManagedIdentityError('hostSetup', 'EndpointBaseInvalid', name, shown(env[name].trim()));
  if (typeof url === 'string') throw new ManagedIdentityError('hostSetup', 'EndpointVariableInvalid', name, shown(env[name].trim()), 'http(s)');
  return url.toString().replace(/\/+$/, '');
}

/**
 * The value of a secret header from an environment variable (IDENTITY_HEADER,
 * MSI_SECRET), trimmed. A line break or other control character cannot go in
 * a header (it would inject another one): refused before anything is sent,
 * naming the variable and never its value.
 */
export function headerSecret(env: NodeJS.ProcessEnv, name: string): string {
  const value = (env[name] ?? '').trim();
  assertHeaderValue(value, `The environment variable ${name}`);
  return value;
}

/** Throws when `value` holds a character an HTTP header cannot carry; `what` names where it came from, never the value. */
export function assertHeaderValue(value: string, what: string, kind: ErrorKind = 'hostSetup'): void {
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) throw new ManagedIdentityError(kind, 'HeaderValueInvalid', what);
}

/**
 * The query or form parameter that names a user-assigned identity in this
 * source (undefined for the system-assigned one). A selector the source has no
 * parameter for is refused here, before any request.
 */
export function selectorParam(
  label: string,
  identity: IdentitySelector,
  params: Partial<Record<IdentityIdType, string>>,
): [name: string, value: string] | undefined {
  if (identity.kind === 'system') return undefined;
  const name = params[identity.kind];
  if (name) return [name, identity.id];
  throw unsupportedSelector(label, identity.kind, Object.keys(params) as IdentityIdType[]);
}

export function unsupportedSelector(label: string, kind: IdentityIdType, supported: readonly IdentityIdType[]): ManagedIdentityError {
  const use = supported.length ? `identityIdType ${supported.join(' or ')}` : 'identityType systemAssigned';
  return new ManagedIdentityError('badInput', 'SelectorUnsupported', label, identityIdLabel(kind), use);
}
