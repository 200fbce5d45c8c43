/**
 * Gets a managed identity token: picks the source, sends the request with
 * retries under one deadline, reads the answer and the token's claims.
 * This is the one entry point the tasks and the command line call.
 */
import { parseAudience } from './audience';
import { Cloud, CLOUDS } from './clouds';
import { ManagedIdentityError } from './errors';
import type { Message } from './messages';
import { HttpNetworkError, HttpResponse, send } from './http';
import { describeIdentity, IdentitySelector, SYSTEM_ASSIGNED } from './identity';
import { clientIdOf, decodeJwtClaims, TokenClaims } from './jwt';
import { Attempt, Clock, parseRetryAfter, realClock, retrying, RetryEvent, RetryPolicy } from './retry';
import { imdsSource } from './sources/imds';
import type { AccessToken, TokenSource } from './sources/types';
import { parseTokenResponse, refusal } from './token-response';

export interface AcquireOptions {
  /** The audience input: a preset name, resource URI, App ID URI, GUID or one /.default scope. */
  audience: string;
  identity?: IdentitySelector;
  cloud?: Cloud;
  /** Overall deadline for all attempts, in seconds (default 120). */
  timeoutSeconds?: number;
  /** One request's limit, in ms (default 20 s, never past the deadline). */
  requestTimeoutMs?: number;
  /** Connection set-up limit for a probed endpoint, in ms (default 3 s). */
  probeTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  retryPolicy?: Partial<RetryPolicy>;
  onRetry?: (event: RetryEvent & { source: string }) => void;
}

export interface TokenResult extends AccessToken {
  /** The resource that was requested. */
  requestedResource: string;
  source: TokenSource['name'];
  sourceLabel: string;
  identity: IdentitySelector;
  claims?: TokenClaims;
  /** Things the user should know: e.g. the token is for another identity than asked. */
  warnings: Message[];
  /** The token endpoint that answered, without its query (for tools that need it, e.g. ARM_MSI_ENDPOINT). */
  endpoint: string;
}

const RETRY_STATUSES = new Set([404, 408, 410, 429, 500, 502, 503, 504]);

export function selectSource(_env: NodeJS.ProcessEnv): TokenSource {
  return imdsSource;
}

export async function acquireToken(options: AcquireOptions): Promise<TokenResult> {
  const env = options.env ?? process.env;
  const clock = options.clock ?? realClock;
  const identity = options.identity ?? SYSTEM_ASSIGNED;
  const { resource } = parseAudience(options.audience, options.cloud ?? CLOUDS.AzureCloud);
  const timeoutSeconds = options.timeoutSeconds ?? 120;
  const started = clock.now();
  const deadline = started + timeoutSeconds * 1000;
  const source = selectSource(env);
  const request = source.request({ resource, identity, env });
  const requestTimeoutMs = options.requestTimeoutMs ?? 20_000;
  const probeTimeoutMs = options.probeTimeoutMs ?? 3_000;

  const attempt = async (n: number): Promise<Attempt<AccessToken>> => {
    const remaining = Math.max(1, deadline - clock.now());
    let res: HttpResponse;
    try {
      res = await send({
        ...request,
        timeoutMs: Math.min(requestTimeoutMs, remaining),
        connectTimeoutMs: source.probe && n === 1 ? Math.min(probeTimeoutMs, remaining) : undefined,
      });
    } catch (e) {
      if (!(e instanceof HttpNetworkError)) throw e;
      return networkFailure(source, e, n, timeoutSeconds);
    }
    if (res.status >= 200 && res.status < 300) return { ok: true, value: parseTokenResponse(source.label, res, clock.now()) };
    const error = refusal(source.label, res, resource);
    const retryable = RETRY_STATUSES.has(res.status);
    return {
      ok: false,
      error,
      retryable,
      reason: `HTTP ${res.status}`,
      retryAfterMs: parseRetryAfter(res.headers['retry-after'], clock.now()),
      gone: res.status === 410,
    };
  };

  const token = await retrying(attempt, {
    deadline,
    clock,
    policy: options.retryPolicy,
    onRetry: (event) => options.onRetry?.({ ...event, source: source.name }),
    onDeadline: (last) =>
      last instanceof ManagedIdentityError && last.kind !== 'refused'
        ? last
        : new ManagedIdentityError('timeout', 'EndpointTimeout', source.label, timeoutSeconds),
  });

  const claims = decodeJwtClaims(token.token);
  return {
    ...token,
    requestedResource: resource,
    source: source.name,
    sourceLabel: source.label,
    identity,
    claims,
    warnings: identityMismatch(identity, claims),
    endpoint: request.url.split('?')[0],
  };
}

function networkFailure(source: TokenSource, e: HttpNetworkError, n: number, timeoutSeconds: number): Attempt<AccessToken> {
  if (e.failure === 'tooLarge') {
    return { ok: false, retryable: false, reason: 'too large', error: new ManagedIdentityError('badResponse', 'ResponseTooLarge', source.label, 1024 * 1024) };
  }
  const where = new URL(e.url).origin;
  // A probed endpoint that cannot even be connected to on the first try is not there: say so now, not after the deadline.
  if (source.probe && n === 1 && (e.failure !== 'timeout' || /connect/i.test(e.detail))) {
    return { ok: false, retryable: false, reason: e.failure, error: new ManagedIdentityError('noEndpoint', 'NoEndpoint', where, e.detail) };
  }
  const error =
    e.failure === 'timeout'
      ? new ManagedIdentityError('timeout', 'EndpointTimeout', where, timeoutSeconds)
      : new ManagedIdentityError('noEndpoint', 'NoEndpoint', where, e.detail);
  return { ok: false, retryable: true, reason: e.failure, error };
}

/** Warns when the token is not for the identity that was asked for. */
function identityMismatch(identity: IdentitySelector, claims: TokenClaims | undefined): Message[] {
  if (!claims || identity.kind === 'system') return [];
  const actual =
    identity.kind === 'clientId' ? clientIdOf(claims) : identity.kind === 'objectId' ? claims.oid : claims.xms_mirid;
  if (typeof actual !== 'string' || actual.toLowerCase() === identity.id.toLowerCase()) return [];
  return [{ key: 'IdentityMismatch', args: [actual, describeIdentity(identity)] }];
}
