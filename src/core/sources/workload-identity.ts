/**
 * Workload identity federation (AKS and any federated host):
 * AZURE_FEDERATED_TOKEN_FILE, AZURE_TENANT_ID and a client ID (AZURE_CLIENT_ID
 * or the identityId input). The file's token is exchanged at Microsoft Entra
 * ID: POST {AZURE_AUTHORITY_HOST or the cloud's authority}/{tenant}/oauth2/v2.0/token
 * with grant_type=client_credentials, client_id, scope=<resource>/.default,
 * client_assertion=<file contents, trimmed> and the jwt-bearer assertion type.
 * The answer carries a numeric expires_in. This is the one source that leaves
 * the machine, so it goes through the agent's proxy and TLS settings.
 */
import { readFileSync } from 'node:fs';
import { entraRefusal } from '../aadsts';
import { scopeOf } from '../audience';
import type { Cloud } from '../clouds';
import { ManagedIdentityError } from '../errors';
import type { IdentitySelector } from '../identity';
import { dispatcherFor } from '../network';
import { baseUrl, isSet, shown, transientStatus, unsupportedSelector } from './common';
import type { TokenSource } from './types';
import { checkUrl } from '../url';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const TENANT = /^[A-Za-z0-9][A-Za-z0-9.-]*$/;

/** The client ID the request names: the identityId input (client ID), else AZURE_CLIENT_ID. */
function clientIdFor(identity: IdentitySelector, env: NodeJS.ProcessEnv, label: string): string {
  if (identity.kind === 'clientId') return identity.id;
  if (identity.kind !== 'system') throw unsupportedSelector(label, identity.kind, ['clientId']);
  // detect() made sure one of the two is there.
  if (!isSet(env.AZURE_CLIENT_ID)) throw new ManagedIdentityError('hostSetup', 'SourceNotConfigured', 'workloadIdentity', workloadIdentitySource.detectedBy);
  return env.AZURE_CLIENT_ID.trim();
}

function readAssertion(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new ManagedIdentityError('hostSetup', 'FederatedTokenFileUnreadable', shown(file), (e as NodeJS.ErrnoException).code ?? String(e));
  }
  if (!text) throw new ManagedIdentityError('hostSetup', 'FederatedTokenFileUnreadable', shown(file), 'empty');
  return text;
}

/**
 * Where the federated token goes: AZURE_AUTHORITY_HOST, else the cloud's
 * authority. Only over https (plain http only to a loopback address, such as a
 * test's emulator): anything else fails before the token file is read.
 */
function authorityHost(env: NodeJS.ProcessEnv, cloud: Cloud): string {
  const fromEnv = isSet(env.AZURE_AUTHORITY_HOST);
  const raw = fromEnv ? env.AZURE_AUTHORITY_HOST! : cloud.authorityHost;
  if (checkUrl(raw, { scheme: 'httpsOrLoopback', base: true }) === 'scheme') {
    throw new ManagedIdentityError('hostSetup', 'AuthorityNotHttps', fromEnv ? 'AZURE_AUTHORITY_HOST' : `The authority host of the ${cloud.name} cloud`, shown(raw.trim()));
  }
  return baseUrl(env, 'AZURE_AUTHORITY_HOST', cloud.authorityHost.replace(/\/+$/, ''));
}

export const workloadIdentitySource: TokenSource = {
  name: 'workloadIdentity',
  label: 'Microsoft Entra ID (workload identity)',
  detectedBy: 'AZURE_FEDERATED_TOKEN_FILE, AZURE_TENANT_ID and AZURE_CLIENT_ID (or a client ID input)',
  detect: ({ env, identity }) =>
    isSet(env.AZURE_FEDERATED_TOKEN_FILE) && isSet(env.AZURE_TENANT_ID) && (isSet(env.AZURE_CLIENT_ID) || identity.kind === 'clientId'),
  probe: false,
  retryStatus: transientStatus,
  request({ resource, identity, env, cloud, network }) {
    const clientId = clientIdFor(identity, env, this.label);
    const tenant = (env.AZURE_TENANT_ID ?? '').trim();
    if (!TENANT.test(tenant)) throw new ManagedIdentityError('hostSetup', 'WorkloadIdentityTenantInvalid', shown(tenant));
    const authority = authorityHost(env, cloud);
    const url = `${authority}/${tenant}/oauth2/v2.0/token`;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      scope: scopeOf(resource),
      client_assertion: readAssertion((env.AZURE_FEDERATED_TOKEN_FILE ?? '').trim()),
      client_assertion_type: CLIENT_ASSERTION_TYPE,
    });
    return {
      http: {
        url,
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: body.toString(),
        dispatcher: network ? dispatcherFor(url, network) : undefined,
      },
      names: { kind: 'clientId', id: clientId },
    };
  },
  refusal(res, { resource, env }, names) {
    return entraRefusal(this.label, res, resource, names.kind === 'system' ? '' : names.id, (env.AZURE_TENANT_ID ?? '').trim());
  },
};
