/**
 * Mints well-formed, unsigned access tokens (the signature segment is random
 * bytes: nothing can verify it) with the claims Entra ID puts in managed
 * identity tokens. Every token carries a unique marker claim, so a log
 * scanner can recognise any token the emulator ever handed out.
 */
import { randomBytes, randomUUID } from 'node:crypto';

export interface MintInput {
  audience: string;
  tenantId: string;
  clientId: string;
  objectId: string;
  /** xms_mirid: the resource ID of the identity's host (system-assigned) or of the user-assigned identity. */
  miResourceId: string;
  lifetimeSeconds: number;
  nowSeconds: number;
  /** v1 (sts.windows.net issuer, appid) or v2 (login.microsoftonline.com/v2.0 issuer, azp). */
  version?: '1.0' | '2.0';
}

export interface MintedToken {
  token: string;
  marker: string;
  claims: Record<string, unknown>;
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

export function mintToken(input: MintInput): MintedToken {
  const marker = `emu-${randomUUID()}`;
  const v2 = input.version === '2.0';
  const claims: Record<string, unknown> = {
    aud: input.audience,
    iss: v2 ? `https://login.microsoftonline.com/${input.tenantId}/v2.0` : `https://sts.windows.net/${input.tenantId}/`,
    iat: input.nowSeconds,
    nbf: input.nowSeconds,
    exp: input.nowSeconds + input.lifetimeSeconds,
    aio: randomBytes(24).toString('base64url'),
    ...(v2 ? { azp: input.clientId, azpacr: '2' } : { appid: input.clientId, appidacr: '2' }),
    idp: `https://sts.windows.net/${input.tenantId}/`,
    idtyp: 'app',
    oid: input.objectId,
    rh: `0.${randomBytes(30).toString('base64url')}.`,
    sub: input.objectId,
    tid: input.tenantId,
    uti: randomBytes(16).toString('base64url'),
    ver: input.version ?? '1.0',
    xms_mirid: input.miResourceId,
    xms_emulator: marker,
  };
  return { token: unsignedJwt(claims), marker, claims };
}

/** A JWT with these claims and a random signature segment (nothing can verify it). */
export function unsignedJwt(claims: Record<string, unknown>): string {
  const header = { typ: 'JWT', alg: 'RS256', kid: 'azure-emulator-unsigned', x5t: 'azure-emulator-unsigned' };
  return `${b64(header)}.${b64(claims)}.${randomBytes(256).toString('base64url')}`;
}
