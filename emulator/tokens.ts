/**
 * Issuing a managed identity token, shared by every protocol module: which
 * identity a request names, whether the tenant knows the resource, and the
 * minted token. Each module words the answer (and the refusal) in its own
 * protocol's shape.
 */
import { randomBytes } from 'node:crypto';
import type { EmulatedIdentity } from './identities';
import type { MintedToken } from './jwt';
import type { AzureEmulator } from './server';

export type Issued =
  | { ok: true; identity: EmulatedIdentity; minted: MintedToken; exp: number; nbf: number }
  | { ok: false; reason: 'unknownResource' | 'notFound' | 'multiple'; description: string };

export interface IdentityQuery {
  clientId?: string;
  objectId?: string;
  resourceId?: string;
}

/** Entra ID's AADSTS500011 text, without its code. */
export function unknownResourceText(resource: string, tenantId: string): string {
  return `The resource principal named ${resource} was not found in the tenant named ${tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`;
}

export function issueToken(emu: AzureEmulator, resource: string, by: IdentityQuery, version?: '1.0' | '2.0'): Issued {
  const m = emu.machine;
  if (!m.knowsResource(resource)) return { ok: false, reason: 'unknownResource', description: `AADSTS500011: ${unknownResourceText(resource, m.tenantId)}` };
  const selected = m.select(by);
  if (!selected.ok) {
    return selected.reason === 'multiple'
      ? { ok: false, reason: 'multiple', description: 'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request' }
      : { ok: false, reason: 'notFound', description: 'Identity not found' };
  }
  return mintFor(emu, selected.identity, resource, version);
}

export function mintFor(emu: AzureEmulator, identity: EmulatedIdentity, resource: string, version?: '1.0' | '2.0'): Issued & { ok: true } {
  const minted = emu.mint({ audience: resource, clientId: identity.clientId, objectId: identity.objectId, miResourceId: identity.resourceId, version });
  return { ok: true, identity, minted, exp: minted.claims.exp as number, nbf: minted.claims.nbf as number };
}

/** A per-emulator secret such as IDENTITY_HEADER, remembered for the secret scan. */
export function hostSecret(emu: AzureEmulator): string {
  const secret = randomBytes(24).toString('hex');
  emu.secrets.push(secret);
  return secret;
}
