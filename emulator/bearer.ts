/**
 * Reads the bearer token of a request to an emulated API (ARM, Azure DevOps):
 * only tokens this emulator minted count, with their claims.
 */
import type { MintedToken } from './jwt';
import type { AzureEmulator, RequestContext } from './server';

/** The minted token the request carries as "Authorization: Bearer …", or undefined. */
export function bearerToken(emu: AzureEmulator, ctx: RequestContext): MintedToken | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(ctx.header('authorization') ?? '');
  return m ? emu.minted.find((t) => t.token === m[1]) : undefined;
}

/** Whether the request carries an Authorization header at all. */
export function hasAuthorization(ctx: RequestContext): boolean {
  return Boolean(ctx.header('authorization'));
}
