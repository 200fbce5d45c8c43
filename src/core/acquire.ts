/**
 * Gets a managed identity token: picks the source, sends the request with
 * retries under one deadline, reads the answer and the token's claims.
 * This is the one entry point the tasks and the command line call.
 */
import type { Audience } from './audience';
import { Cloud, CLOUDS } from './clouds';
import { ManagedIdentityError } from './errors';
import type { Message } from './messages';
import { DEFAULT_MAX_BYTES, HttpNetworkError, HttpResponse, nothingThere, pinFailure, sendBefore } from './http';
import { describeIdentity, IdentitySelector, SYSTEM_ASSIGNED } from './identity';
import { clientIdOf, decodeJwtClaims, TokenClaims } from './jwt';
import { checkLifetime } from './lifetime';
import type { NetworkSettings } from './network';
import { Attempt, Clock, parseRetryAfter, realClock, retrying, RetryEvent, RetryPolicy } from './retry';
import { IdentitySourceChoice, selectSource } from './sources/select';
import type { AccessToken, OutgoingRequest, SourceTestHooks, TokenRequestContext, TokenSource } from './sources/types';
import { errorText, parseTokenResponse, refusal, withSupport } from './token-response';

export interface AcquireOptions {
  /** The audience, parsed where it came in (parseAudience, with the same cloud). */
  audience: Audience;
  identity?: IdentitySelector;
  cloud?: Cloud;
  /** Which token source to use, parsed where it came in (parseIdentitySource): 'auto' (default) detects it from the environment, first match wins. */
  identitySource?: IdentitySourceChoice;
  /** The agent's proxy and TLS settings, for the one source that leaves the machine (workload identity's Entra ID endpoint). */
  network?: NetworkSettings;
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
  /** Test-only overrides (the Azure Arc token folder, the himds file). The tasks never set them. */
  testHooks?: SourceTestHooks;
}

export interface TokenResult extends AccessToken {
  /** The resource that was requested. */
  requestedResource: string;
  source: TokenSource['name'];
  sourceLabel: string;
  /** The identity the request named: the selector, or for workload identity the client ID it used. */
  identity: IdentitySelector;
  claims?: TokenClaims;
  /** Things the user should know: e.g. the token is for another identity than asked. */
  warnings: Message[];
  /** The token endpoint that answered, without its query (for tools that need it, e.g. ARM_MSI_ENDPOINT). */
  endpoint: string;
}

export async function acquireToken(options: AcquireOptions): Promise<TokenResult> {
  const env = options.env ?? process.env;
  const clock = options.clock ?? realClock;
  const identity = options.identity ?? SYSTEM_ASSIGNED;
  const cloud = options.cloud ?? CLOUDS.AzureCloud;
  const { resource } = options.audience;
  const timeoutSeconds = options.timeoutSeconds ?? 120;
  const deadline = clock.now() + timeoutSeconds * 1000;
  const hooks = options.testHooks ?? {};
  const { source, detected } = selectSource({ env, identity, hooks }, options.identitySource);
  const ctx: TokenRequestContext = { env, identity, hooks, resource, cloud, network: options.network };
  // Everything the user or the environment could get wrong is refused here, before any request.
  const prepared = source.request(ctx);
  const requestTimeoutMs = options.requestTimeoutMs ?? 20_000;
  const probeTimeoutMs = options.probeTimeoutMs ?? 3_000;
  const probe = source.probe && detected;

  const sendOne = (req: OutgoingRequest, probing: boolean): Promise<HttpResponse> =>
    sendBefore(req, { deadline, now: clock.now(), requestTimeoutMs, probeConnectMs: probing ? probeTimeoutMs : undefined });

  /** The error of the last answer received: what the final error names, even when a later attempt got no answer. */
  let lastAnswer: ManagedIdentityError | undefined;
  const attempt = async (n: number): Promise<Attempt<AccessToken>> => {
    const probing = probe && n === 1;
    let res: HttpResponse;
    try {
      res = await sendOne(prepared.http, probing);
      const answer = source.challenge?.(res, prepared.http, ctx);
      if (answer) res = await sendOne(answer, false);
    } catch (e) {
      if (!(e instanceof HttpNetworkError)) throw e;
      const failed = networkFailure(source, e, probing, timeoutSeconds);
      // A timeout or "no endpoint" message only when nothing answered.
      return !failed.ok && failed.retryable && lastAnswer ? { ...failed, error: lastAnswer } : failed;
    }
    if (res.status >= 200 && res.status < 300) return { ok: true, value: keepingSupport(res, () => parseTokenResponse(source.label, res, clock.now())) };
    const retryAfterMs = parseRetryAfter(res.headers['retry-after'], clock.now());
    // Should this be the last answer (the retries or the time run out), it is what the error names: a timeout only when nothing answered.
    const retryable = source.retryStatus(res.status);
    const mapped = isThrottling(res.status, retryAfterMs)
      ? throttled(source.label, res, retryAfterMs, deadline - clock.now())
      : (source.refusal?.(res, ctx, prepared.names) ?? refusal(source.label, res, resource));
    // An answer that is retried because it usually passes, without advice of its own: say so, not "refused".
    const error = withSupport(retryable && mapped.key === 'EndpointRefused' ? kept(source.label, res) : mapped, res);
    lastAnswer = error;
    return { ok: false, error, retryable, reason: `HTTP ${res.status}`, retryAfterMs, gone: res.status === 410 };
  };

  const token = await retrying(attempt, {
    deadline,
    clock,
    policy: options.retryPolicy,
    onRetry: (event) => options.onRetry?.({ ...event, source: source.name }),
  });

  const lifetime = checkLifetime(source.label, token.expiresOn, clock.now());
  const claims = decodeJwtClaims(token.token);
  const warnings = identityMismatch(prepared.names, claims);
  if (source.confirmsIdentity && prepared.names.kind !== 'system' && (!claims || warnings.length || claimedId(prepared.names, claims) === undefined)) {
    // An endpoint that ignored the selector answered with another identity: that token must not reach the step.
    const claim = { clientId: 'appid or azp', objectId: 'oid', resourceId: 'xms_mirid' }[prepared.names.kind];
    const shown = claims ? (claimedId(prepared.names, claims) ?? `no ${claim} claim`) : 'nothing: the token is not a readable JWT';
    throw new ManagedIdentityError('refused', 'IdentityNotConfirmed', source.label, describeIdentity(prepared.names), shown);
  }
  return {
    ...token,
    requestedResource: resource,
    source: source.name,
    sourceLabel: source.label,
    identity: prepared.names,
    claims,
    warnings: [...lifetime, ...warnings],
    endpoint: prepared.http.url.split('?')[0],
  };
}

/** Runs a reading of the answer; its error keeps the answer's support IDs. */
function keepingSupport<T>(res: HttpResponse, read: () => T): T {
  try {
    return read();
  } catch (e) {
    throw e instanceof ManagedIdentityError ? withSupport(e, res) : e;
  }
}

/** 429, or 503 with a Retry-After: the endpoint asks this machine to slow down. */
function isThrottling(status: number, retryAfterMs: number | undefined): boolean {
  return status === 429 || (status === 503 && retryAfterMs !== undefined);
}

/** Throttling, with the wait it asked for and the time that was left: the advice is more time, or fewer requests. */
function throttled(label: string, res: HttpResponse, retryAfterMs: number | undefined, leftMs: number): ManagedIdentityError {
  const wait = retryAfterMs === undefined ? 'none' : `${Math.ceil(retryAfterMs / 1000)} seconds`;
  return new ManagedIdentityError('timeout', 'EndpointThrottled', label, res.status, errorText(res), wait, Math.max(0, Math.floor(leftMs / 1000)));
}

/** A retried answer (404, 408, 5xx, IMDS's 410) that lasted until the retries or the time ran out. */
function kept(label: string, res: HttpResponse): ManagedIdentityError {
  return new ManagedIdentityError('timeout', 'EndpointKeptFailing', label, res.status, errorText(res));
}

function networkFailure(source: TokenSource, e: HttpNetworkError, probing: boolean, timeoutSeconds: number): Attempt<AccessToken> {
  const final = (error: ManagedIdentityError): Attempt<AccessToken> => ({ ok: false, retryable: false, reason: e.failure, error });
  if (e.failure === 'tooLarge') return final(new ManagedIdentityError('badResponse', 'ResponseTooLarge', source.label, DEFAULT_MAX_BYTES));
  const pin = pinFailure(e);
  if (pin) return final(new ManagedIdentityError('refused', 'ThumbprintMismatch', source.label, pin.actual, pin.expected));
  const where = new URL(e.url).origin;
  if (e.failure === 'tls') return final(new ManagedIdentityError('noEndpoint', 'TlsFailed', where, e.detail));
  // A probed endpoint that cannot even be connected to on the first try is not there: say so now, not after the deadline.
  if (probing && nothingThere(e)) {
    return final(new ManagedIdentityError('noEndpoint', 'NoEndpoint', where, e.detail));
  }
  const error =
    e.failure === 'timeout'
      ? new ManagedIdentityError('timeout', 'EndpointTimeout', where, timeoutSeconds)
      : new ManagedIdentityError('noEndpoint', 'NoEndpoint', where, e.detail);
  return { ok: false, retryable: true, reason: e.failure, error };
}

/** What the token's claims say for the kind of ID the request named (appid/azp, oid or xms_mirid), when they say it. */
function claimedId(identity: IdentitySelector, claims: TokenClaims): string | undefined {
  const actual = identity.kind === 'clientId' ? clientIdOf(claims) : identity.kind === 'objectId' ? claims.oid : claims.xms_mirid;
  return typeof actual === 'string' ? actual : undefined;
}

/** Warns when the token is not for the identity the request named. */
function identityMismatch(identity: IdentitySelector, claims: TokenClaims | undefined): Message[] {
  if (!claims || identity.kind === 'system') return [];
  const actual = claimedId(identity, claims);
  if (actual === undefined || actual.toLowerCase() === identity.id.toLowerCase()) return [];
  return [{ key: 'IdentityMismatch', args: [actual, describeIdentity(identity)] }];
}
