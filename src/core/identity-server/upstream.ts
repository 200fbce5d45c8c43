/**
 * Where the identity server's tokens come from: acquireToken, with the source
 * the task detected or was told (never re-detected in the server, which would
 * find its own endpoint), and the identity the request names or the chosen one.
 */
import { acquireToken, AcquireOptions } from '../acquire';
import type { IdentitySelector } from '../identity';
import { clientIdOf } from '../jwt';
import type { CachedToken } from './cache';

export type UpstreamOptions = Omit<AcquireOptions, 'audience' | 'identity'>;

export function acquireUpstream(base: UpstreamOptions): (resource: string, identity: IdentitySelector) => Promise<CachedToken> {
  return async (resource, identity) => {
    // The resource as the client wrote it (protocols.ts checked it is a URI or an application ID): no preset names here.
    const r = await acquireToken({ ...base, audience: { resource }, identity });
    return { token: r.token, expiresOn: r.expiresOn, clientId: r.clientId ?? clientIdOf(r.claims) };
  };
}
