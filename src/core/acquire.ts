/**
 * Gets a managed identity token: picks the source, sends the request with
 * retries under one deadline, reads the answer and the token's claims.
 * This is the one entry point the tasks and the command line call.
 */
import { parseAudience } from './audience';
import { Cloud, CLOUDS } from './clouds';
import { ManagedIdentityError } from './errors';
import type { Message } from './messages';
import { DEFAULT_MAX_BYTES, HttpNetworkError, HttpResponse, nothingThere, pinFailure, sendBefore } from './http';
import { describeIdentity, IdentitySelector, SYSTEM_ASSIGNED } from './identity';
import { clientIdOf, decodeJwtClaims, TokenClaims } from './jwt';
import type { NetworkSettings } from './network';
import { Attempt, Clock, parseRetryAfter, realClock, retrying, RetryEvent, RetryPolicy } from './retry';
import { IdentitySourceChoice, selectSource } from './sources/select';
import type { AccessToken, OutgoingRequest, SourceTestHooks, TokenRequestContext, TokenSource } from './sources/types';
import { parseTokenResponse, refusal } from './token-response';

export interface AcquireOptions {
  /** The audience input: a preset name, resource URI, App ID URI, GUID or one /.default scope. */
  audience: string;
  identity?: IdentitySelector;
  cloud?: Cloud;
  /** Which token source to use: 'auto' (default) detects it from the environment, first match wins. */
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
  const { resource } = parseAudience(options.audience, cloud);
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

  const attempt = async (n: number): Promise<Attempt<AccessToken>> => {
    const probing = probe && n === 1;
    let res: HttpResponse;
    try {
      res = await sendOne(prepared.http, probing);
      const answer = source.challenge?.(res, prepared.http, ctx);
      if (answer) res = await sendOne(answer, false);
    } catch (e) {
      if (!(e instanceof HttpNetworkError)) throw e;
      return networkFailure(source, e, probing, timeoutSeconds);
    }
    if (res.status >= 200 && res.status < 300) return { ok: true, value: parseTokenResponse(source.label, res, clock.now()) };
    const error = source.refusal?.(res, ctx, prepared.names) ?? refusal(source.label, res, resource);
    return {
      ok: false,
      error,
      retryable: source.retryStatus(res.status),
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
    warnings,
    endpoint: prepared.http.url.split('?')[0],
  };
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
