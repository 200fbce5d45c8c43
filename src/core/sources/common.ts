/**
 * What the token sources share: reading an endpoint from the environment,
 * mapping an identity selector to a source's own parameter (or refusing it
 * before anything is sent), and which answers are worth retrying.
 */
import { ManagedIdentityError } from '../errors';
import { IdentityIdType, identityIdLabel, IdentitySelector } from '../identity';

/** 404, 408, 429 and 5xx: what every managed identity endpoint may answer while it is busy or starting. */
export function transientStatus(status: number): boolean {
  return status === 404 || status === 408 || status === 429 || (status >= 500 && status <= 599);
}

export function isSet(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

/** The URL in an environment variable; badInput when it is not an http(s) URL (or not https when required). */
export function endpointUrl(env: NodeJS.ProcessEnv, name: string, scheme: 'http(s)' | 'https' = 'http(s)'): URL {
  const raw = (env[name] ?? '').trim();
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  const ok = url && (scheme === 'https' ? url.protocol === 'https:' : /^https?:$/.test(url.protocol)) && !url.username && !url.password;
  // Never repeat credentials a URL may carry.
  if (!url || !ok) throw new ManagedIdentityError('badInput', 'EndpointVariableInvalid', name, raw.replace(/\/\/[^/]*@/, '//***@'), scheme);
  return url;
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
