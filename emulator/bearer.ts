/**
 * Reads the bearer token of a request to an emulated API (ARM, Key Vault,
 * Azure DevOps): only tokens this emulator minted count, with their claims.
 */
import type { MintedToken } from './jwt';
import type { AzureEmulator, RequestContext } from './server';

/** Whether the request has "Authorization: Bearer …", and the minted token it carries, if any. */
export function bearerToken(emu: AzureEmulator, ctx: RequestContext): { present: boolean; minted?: MintedToken } {
  const m = /^Bearer\s+(\S+)$/i.exec(ctx.header('authorization') ?? '');
  if (!m) return { present: false };
  return { present: true, minted: emu.minted.find((t) => t.token === m[1]) };
}
