/**
 * Which token source to use: the one the identitySource input forces, or the
 * first whose environment is present, in the order @azure/identity and MSAL
 * detect them (workload identity, Service Fabric, App Service, App Service
 * 2017, Cloud Shell, Azure Arc, then IMDS as the fallback).
 */
import { ManagedIdentityError } from '../errors';
import { appServiceSource } from './app-service';
import { appServiceLegacySource } from './app-service-legacy';
import { azureArcSource } from './azure-arc';
import { cloudShellSource } from './cloud-shell';
import { imdsSource } from './imds';
import { serviceFabricSource } from './service-fabric';
import { SOURCE_NAMES, SourceContext, SourceName, TokenSource } from './types';
import { workloadIdentitySource } from './workload-identity';

/** In detection order. */
export const SOURCES: readonly TokenSource[] = [
  workloadIdentitySource,
  serviceFabricSource,
  appServiceSource,
  appServiceLegacySource,
  cloudShellSource,
  azureArcSource,
  imdsSource,
];

export const IDENTITY_SOURCE_CHOICES = ['auto', ...SOURCE_NAMES] as const;
export type IdentitySourceChoice = (typeof IDENTITY_SOURCE_CHOICES)[number];

/**
 * The identitySource input (the command line's --source): the one parser, called
 * where the value comes in. Empty is auto; case does not matter; anything else is badInput.
 */
export function parseIdentitySource(value: string | undefined): IdentitySourceChoice {
  const text = (value ?? '').trim() || 'auto';
  const found = IDENTITY_SOURCE_CHOICES.find((c) => c.toLowerCase() === text.toLowerCase());
  if (!found) throw new ManagedIdentityError('badInput', 'IdentitySourceInvalid', text.slice(0, 100), IDENTITY_SOURCE_CHOICES.join(', '));
  return found;
}

export function sourceNamed(name: SourceName): TokenSource {
  const found = SOURCES.find((s) => s.name === name);
  if (!found) throw new Error(`no token source ${name}`);
  return found;
}

export interface Selection {
  source: TokenSource;
  /** Whether the environment chose it (auto), rather than the identitySource input. */
  detected: boolean;
}

/**
 * The source for this environment. A forced source whose environment is
 * missing fails with what it needs (IMDS needs nothing: it is always there to try).
 */
export function selectSource(ctx: SourceContext, choice: IdentitySourceChoice = 'auto'): Selection {
  if (choice === 'auto') return { source: SOURCES.find((s) => s.detect(ctx)) ?? imdsSource, detected: true };
  const source = sourceNamed(choice);
  if (!source.detect(ctx)) throw new ManagedIdentityError('hostSetup', 'SourceNotConfigured', choice, source.detectedBy);
  return { source, detected: false };
}
