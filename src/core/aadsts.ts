/**
 * Microsoft Entra ID's refusals of a workload identity (federated credential)
 * token request, mapped from their AADSTS codes to advice a user can act on.
 * The answer is {error, error_description, error_codes: [n], timestamp,
 * trace_id, correlation_id}; the description (with its trace and correlation
 * IDs, which support asks for) is kept in the message.
 */
import { ManagedIdentityError } from './errors';
import type { HttpResponse } from './http';
import type { MessageKey } from './messages';
import { errorText } from './token-response';

/** The AADSTS codes of an answer: error_codes, else the codes named in the text. */
export function aadstsCodes(res: HttpResponse): number[] {
  try {
    const json = JSON.parse(res.body) as { error_codes?: unknown };
    if (Array.isArray(json.error_codes)) return json.error_codes.filter((c): c is number => typeof c === 'number');
  } catch {
    // not JSON: look in the text
  }
  return [...res.body.matchAll(/AADSTS(\d+)/g)].map((m) => Number(m[1]));
}

const CLIENT_ADVICE: ReadonlyArray<[codes: number[], key: MessageKey]> = [
  [[700211], 'EntraIssuerMismatch'],
  [[70021, 700213, 7002137, 7002138], 'EntraNoFederatedCredential'],
  [[700016], 'EntraClientNotFound'],
];

/** Advice for an Entra ID refusal, or undefined for codes without specific advice. */
export function entraRefusal(label: string, res: HttpResponse, resource: string, clientId: string, tenant: string): ManagedIdentityError | undefined {
  const codes = aadstsCodes(res);
  const text = errorText(res);
  const has = (...list: number[]) => codes.some((c) => list.includes(c));
  for (const [list, key] of CLIENT_ADVICE) if (has(...list)) return new ManagedIdentityError('refused', key, clientId, text);
  if (has(90002, 900023, 90023)) return new ManagedIdentityError('refused', 'EntraTenantNotFound', tenant, text);
  if (has(700024, 700025)) return new ManagedIdentityError('refused', 'EntraAssertionExpired', text);
  if (has(50027, 700027, 7000274, 50013)) return new ManagedIdentityError('refused', 'EntraAssertionInvalid', text);
  if (has(500011, 500014, 1002012)) return new ManagedIdentityError('refused', 'UnknownResource', label, resource, text);
  return undefined;
}
