/**
 * Turns the audience input into the resource a managed identity endpoint is
 * asked for. Presets resolve per cloud; a typed value is sent exactly as typed,
 * except that one trailing "/.default" is removed (managed identity endpoints
 * take a resource, and the token's aud is that resource as requested).
 */
import { AZURE_DEVOPS_RESOURCE, Cloud, CLOUDS } from './clouds';
import { ManagedIdentityError } from './errors';

export const AUDIENCE_PRESETS = ['AzureResourceManager', 'AzureDevOps', 'MicrosoftGraph', 'KeyVault', 'Storage'] as const;
export type AudiencePreset = (typeof AUDIENCE_PRESETS)[number];

export interface Audience {
  /** The resource to request, e.g. https://management.azure.com/ */
  resource: string;
  /** The preset it came from, if any. */
  preset?: AudiencePreset;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** scheme://rest with no white space, control characters or fragment. */
const URI = /^[a-z][a-z0-9+.-]*:\/\/[^\s#\u0000-\u001f\u007f]+$/i;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

export function presetResource(preset: AudiencePreset, cloud: Cloud = CLOUDS.AzureCloud): string {
  switch (preset) {
    case 'AzureResourceManager':
      return cloud.armAudience;
    case 'AzureDevOps':
      return AZURE_DEVOPS_RESOURCE;
    case 'MicrosoftGraph':
      return cloud.graphAudience;
    case 'KeyVault':
      return cloud.keyVaultAudience;
    case 'Storage':
      return cloud.storageAudience;
  }
}

export function parseAudience(input: string, cloud: Cloud = CLOUDS.AzureCloud): Audience {
  const value = input.trim();
  if (!value) throw new ManagedIdentityError('badInput', 'AudienceEmpty');
  const preset = AUDIENCE_PRESETS.find((p) => p.toLowerCase() === value.toLowerCase());
  if (preset) return { resource: presetResource(preset, cloud), preset };
  if (/[\s,]/.test(value)) throw new ManagedIdentityError('badInput', 'AudienceSeveralScopes', value);

  const resource = value.replace(/\/\.default$/i, '');
  if (isGuid(resource)) return { resource, preset: resource.toLowerCase() === AZURE_DEVOPS_RESOURCE ? 'AzureDevOps' : undefined };
  if (!URI.test(resource) || /\/\.default/i.test(resource)) {
    throw new ManagedIdentityError('badInput', 'AudienceMalformed', value);
  }
  try {
    new URL(resource);
  } catch {
    throw new ManagedIdentityError('badInput', 'AudienceMalformed', value);
  }
  return { resource };
}

/** The scope form of a resource, for endpoints that take scopes (Entra v2). */
export function scopeOf(resource: string): string {
  return `${resource.replace(/\/+$/, '')}/.default`;
}
