/**
 * A small Azure Resource Manager client: GET one resource or a whole list
 * (following nextLink), with the retries and the bearer-token guard of
 * rest.ts, and ARM's {error:{code,message}} turned into advice.
 */
import { ManagedIdentityError } from './errors';
import type { HttpResponse } from './http';
import { collectPages, getWithToken, Json, jsonBody, pageOf, RestOptions, serviceError } from './rest';
import { withSupport } from './token-response';

export const ARM_LABEL = 'Azure Resource Manager';

export const ARM_API_VERSIONS = {
  subscriptions: '2022-12-01',
  resourceGroups: '2021-04-01',
  resources: '2021-04-01',
  keyVault: '2024-11-01',
  permissions: '2022-04-01',
} as const;

/** What the advice names: who asked, and where. */
export interface ArmContext {
  /** The token's oid: the identity's object (principal) ID. */
  objectId?: string;
  /** The token's aud. */
  audience?: string;
}

export interface ArmClient {
  readonly endpoint: string;
  /** GET {endpoint}{path}?api-version=…: the resource's JSON. */
  get<T = Json>(path: string, apiVersion: string): Promise<T>;
  /** GET a list and every further page through nextLink. */
  list<T = Json>(path: string, apiVersion: string, query?: Record<string, string>): Promise<T[]>;
}

export function armClient(endpoint: string, token: string, context: ArmContext = {}, options: RestOptions = {}): ArmClient {
  const base = endpoint.endsWith('/') ? endpoint : `${endpoint}/`;
  const urlOf = (path: string, apiVersion: string, query: Record<string, string> = {}): string => {
    const url = new URL(path.replace(/^\/+/, ''), base);
    url.searchParams.set('api-version', apiVersion);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return url.toString();
  };
  const fetchJson = async (url: string): Promise<Json> => {
    const res = await getWithToken(url, token, ARM_LABEL, options);
    if (res.status < 200 || res.status >= 300) throw armError(res, new URL(url).pathname, context, base);
    return jsonBody(res, ARM_LABEL, url);
  };
  return {
    endpoint: base,
    get: async <T>(path: string, apiVersion: string) => (await fetchJson(urlOf(path, apiVersion))) as T,
    list: <T>(path: string, apiVersion: string, query?: Record<string, string>) =>
      collectPages<T>(urlOf(path, apiVersion, query), ARM_LABEL, options.maxPages ?? 100, async (url) => pageOf<T>(await fetchJson(url))),
  };
}

/** The role that would allow an action: Reader for reads, else a contributor role. */
export function roleFor(action: string): string {
  if (/\/read$/i.test(action)) return 'Reader';
  return /^Microsoft\.KeyVault\//i.test(action) ? 'Key Vault Contributor' : 'Contributor';
}

/** ARM's answer to a failed request, as advice, with its request IDs for a support case. */
export function armError(res: HttpResponse, path: string, context: ArmContext, endpoint: string): ManagedIdentityError {
  return withSupport(armAdvice(res, path, context, endpoint), res);
}

function armAdvice(res: HttpResponse, path: string, context: ArmContext, endpoint: string): ManagedIdentityError {
  const { code, message } = serviceError(res);
  const detail = [code, message].filter(Boolean).join(': ') || `HTTP ${res.status}`;
  switch (code) {
    case 'AuthorizationFailed': {
      const m = /action '([^']+)' over scope '([^']+)'/i.exec(message);
      const action = m?.[1] ?? 'this action';
      const scope = m?.[2] ?? path;
      const role = roleFor(action);
      const who = context.objectId ?? 'unknown';
      return new ManagedIdentityError('refused', 'ArmAuthorizationFailed', who, action, scope, role, who, role, scope);
    }
    case 'InvalidAuthenticationTokenAudience':
      return new ManagedIdentityError('refused', 'ArmTokenAudience', endpoint, context.audience ?? 'unknown', message);
    case 'ExpiredAuthenticationToken':
      return new ManagedIdentityError('refused', 'ArmTokenExpired', message);
    case 'ResourceGroupNotFound': {
      const m = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)/i.exec(path);
      return new ManagedIdentityError('refused', 'ArmResourceGroupNotFound', m?.[2] ?? '', m?.[1] ?? '', message);
    }
    case 'ResourceNotFound':
      return new ManagedIdentityError('refused', 'ArmResourceNotFound', path, message);
    case 'SubscriptionNotFound':
      return new ManagedIdentityError('refused', 'ArmSubscriptionNotFound', /^\/subscriptions\/([^/]+)/i.exec(path)?.[1] ?? '', message);
  }
  if (res.status === 429) return new ManagedIdentityError('refused', 'ArmThrottled', detail);
  return new ManagedIdentityError('refused', 'ArmRefused', res.status, path, detail);
}
