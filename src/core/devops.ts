/**
 * Checks that Azure DevOps accepts a managed identity token: asks the
 * organization for its connection data (GET {collection}/_apis/connectionData,
 * what azure-devops-node-api's WebApi.connect() asks) through the agent's
 * proxy and certificate settings, and reads who it says we are. One request
 * through the core's send(): one deadline for the whole exchange (a body that
 * drips or never ends is cut off with it), a size limit, and no redirect
 * followed, so the token never goes to another origin.
 * Azure DevOps answers a token it does not accept in several ways: a 401
 * (TF400813, TF401444, VS30063), the anonymous identity (organizations with
 * public projects), or a 203 with an HTML sign-in page.
 */
import { HttpNetworkError, send } from './http';
import { dispatcherFor, NetworkSettings } from './network';
import { assertBearerUrl } from './rest';
import { sanitize, shortPlainText, supportDetails } from './token-response';

/**
 * Whether a collection URL is Azure DevOps Services (dev.azure.com, or an
 * organization's *.visualstudio.com), which takes Microsoft Entra ID tokens.
 * Azure DevOps Server does not.
 */
export function isDevOpsServicesUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url.trim()).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === 'dev.azure.com' || host.endsWith('.visualstudio.com');
}

/** The ID Azure DevOps gives the anonymous (unauthenticated) user. */
export const DEVOPS_ANONYMOUS_ID = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';

export interface DevOpsIdentity {
  /** The Azure DevOps identity ID (not the Entra object ID). */
  id: string;
  displayName: string;
  descriptor?: string;
}

export type DevOpsProblem =
  /** The service did not authenticate the token and answered as the anonymous user. */
  | 'anonymous'
  /** HTTP 401 (or 403): the identity is not a user of the organization, or the token is not for Azure DevOps. */
  | 'unauthorized'
  /** HTTP 203 with an HTML sign-in page: the token was not taken. */
  | 'signIn'
  /** Nothing usable: no connection data at that URL (404, empty or not JSON). */
  | 'noData'
  /** No answer at all (DNS, proxy, TLS, timeout). */
  | 'unreachable';

export type DevOpsCheck =
  | { ok: true; identity: DevOpsIdentity }
  | {
      ok: false;
      problem: DevOpsProblem;
      status?: number;
      detail: string;
      codes: string[];
      /** Azure DevOps's ActivityId and X-VSS-E2EID ("name value" pairs), kept for a support case; absent when it gave none. */
      support?: string;
    };

/** The TFnnnnnn / VSnnnnn error codes a message names. */
export function errorCodes(text: string): string[] {
  return [...new Set(text.match(/\b(TF\d{5,6}|VS\d{5})\b/g) ?? [])];
}

/** Every detail comes from the server or the client library: one line, nothing that looks like a token, short. */
function failure(problem: DevOpsProblem, detail: string, status?: number): DevOpsCheck {
  const oneLine = sanitize(detail).replace(/\s+/g, ' ').trim().slice(0, 300);
  return { ok: false, problem, status, detail: oneLine, codes: errorCodes(detail) };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

/** Reads connection data: who the service says the caller is. */
export function evaluateConnectionData(data: unknown): DevOpsCheck {
  const user = data !== null && typeof data === 'object' ? (data as Record<string, unknown>).authenticatedUser : undefined;
  if (user === null || typeof user !== 'object') return failure('noData', 'no authenticatedUser in the connection data');
  const u = user as Record<string, unknown>;
  const id = str(u.id);
  const descriptor = str(u.descriptor);
  if (!id) return failure('noData', 'the authenticated user has no id');
  if (id.toLowerCase() === DEVOPS_ANONYMOUS_ID || /UnauthenticatedIdentity|PublicAccess/i.test(descriptor ?? '')) {
    return failure('anonymous', `authenticated as ${str(u.providerDisplayName) ?? 'Anonymous'} (${id})`);
  }
  return { ok: true, identity: { id, displayName: str(u.customDisplayName) ?? str(u.providerDisplayName) ?? id, descriptor } };
}

/** Reads a raw answer (status, content type, body). */
export function evaluateResponse(status: number, contentType: string, body: string): DevOpsCheck {
  if (status === 401 || status === 403) return failure('unauthorized', messageOf(body) || `HTTP ${status}`, status);
  if (status === 203 || /text\/html/i.test(contentType) || /^\s*<(!doctype|html)/i.test(body)) {
    const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1]?.trim();
    return failure('signIn', `HTTP ${status}, an HTML page${title ? ` "${title}"` : ''}`, status);
  }
  if (status < 200 || status > 299) return failure('noData', messageOf(body) || `HTTP ${status}`, status);
  try {
    return evaluateConnectionData(JSON.parse(body));
  } catch {
    return failure('noData', `HTTP ${status}, not JSON`, status);
  }
}

/** The message of an Azure DevOps error body ({message, typeKey, …}), or a short text. */
function messageOf(body: string): string {
  try {
    const j = JSON.parse(body) as { message?: unknown };
    if (typeof j.message === 'string') return sanitize(j.message);
  } catch {
    // not JSON
  }
  return /</.test(body) ? '' : (shortPlainText(body) ?? '');
}

/** Reads a request that got no answer (DNS, proxy, TLS, the deadline). */
export function evaluateError(e: unknown): DevOpsCheck {
  if (e instanceof HttpNetworkError) return failure('unreachable', `${e.failure}: ${e.detail}`);
  return failure('unreachable', e instanceof Error ? e.message : String(e));
}

/** {collection}/_apis/connectionData; the collection URL must be https (or http to loopback), as for every bearer token. */
export function connectionDataUrl(collectionUri: string): string {
  const base = assertBearerUrl(collectionUri);
  return new URL('_apis/connectionData', base.href.endsWith('/') ? base.href : `${base.href}/`).href;
}

/**
 * Connects to the organization with the token and reports who it is, within
 * timeoutMs for the whole exchange. A redirect is not followed (the token
 * would go with it): it is reported, with where it pointed.
 */
export async function checkAzureDevOps(collectionUri: string, token: string, settings: NetworkSettings, timeoutMs = 30_000): Promise<DevOpsCheck> {
  const url = connectionDataUrl(collectionUri);
  let res;
  try {
    res = await send({
      url,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      timeoutMs,
      connectTimeoutMs: timeoutMs,
      dispatcher: dispatcherFor(url, settings, timeoutMs),
    });
  } catch (e) {
    return evaluateError(e);
  }
  if (res.status >= 300 && res.status < 400) {
    const location = res.headers.location ?? '';
    let where = 'nowhere';
    try {
      where = new URL(location, url).origin;
    } catch {
      // not a URL
    }
    return failure('noData', `HTTP ${res.status}, a redirect to ${where}, not followed: the token is sent only to the collection URL`, res.status);
  }
  const check = evaluateResponse(res.status, res.headers['content-type'] ?? '', res.body);
  const support = check.ok ? undefined : supportDetails(res);
  return support && !check.ok ? { ...check, support } : check;
}
