/**
 * The mi-token command line: its options, their checks and the usage text.
 * Everything the core can check (audience, source, identity IDs, timeout) is
 * checked by the core's parsers, called here, at the edge; this module only
 * maps options onto the core's inputs. The
 * lists of choices (presets, sources, clouds) come from the core too, so a
 * new source or preset needs no change here.
 */
import { parseArgs, ParseArgsConfig } from 'node:util';
import { Audience, AUDIENCE_PRESETS, parseAudience } from '../core/audience';
import { IDENTITY_SOURCE_CHOICES as SOURCE_CHOICES, IdentitySourceChoice as SourceChoice, parseIdentitySource } from '../core/sources/select';
import { Cloud, CLOUDS } from '../core/clouds';
import { isManagedIdentityError } from '../core/errors';
import { IdentityIdType, IdentitySelector, SYSTEM_ASSIGNED, userAssigned } from '../core/identity';
import { formatMessage } from '../core/messages';
import { DEFAULT_TIMEOUT_SECONDS, parseTimeoutSeconds } from '../core/timeout';

export const OUTPUT_FORMATS = ['token', 'json', 'env', 'pwsh', 'cmd'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface TokenCommand {
  command: 'token';
  /** Parsed for the cloud below. */
  audience: Audience;
  identity: IdentitySelector;
  source: SourceChoice;
  cloud: Cloud;
  timeoutSeconds: number;
  output: OutputFormat;
  /** Write the output here (private to the user, atomically) instead of stdout. */
  file?: string;
  /** Print the token's claims to stderr. */
  claims: boolean;
}

export type Command = { command: 'help' } | { command: 'version' } | TokenCommand;

/** A command line that cannot run: exit 2 with the usage. */
export class UsageError extends Error {}

const OPTIONS = {
  audience: { type: 'string' },
  'client-id': { type: 'string' },
  'object-id': { type: 'string' },
  'resource-id': { type: 'string' },
  source: { type: 'string' },
  cloud: { type: 'string' },
  timeout: { type: 'string' },
  output: { type: 'string' },
  file: { type: 'string' },
  claims: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

const SELECTORS: ReadonlyArray<[keyof typeof OPTIONS, IdentityIdType]> = [
  ['client-id', 'clientId'],
  ['object-id', 'objectId'],
  ['resource-id', 'resourceId'],
];

const CLOUD_NAMES = Object.keys(CLOUDS) as Array<keyof typeof CLOUDS>;

export function parseCommandLine(argv: readonly string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false, tokens: true });
  } catch (e) {
    // node's own text names the option; its first sentence is enough.
    throw new UsageError(e instanceof Error ? e.message.split(/\.\s/)[0].replace(/\.$/, '') : String(e));
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens) {
    if (t.kind !== 'option') continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name} is given more than once`);
    seen.add(t.name);
  }
  const v = parsed.values;
  if (v.help) return { command: 'help' };
  if (v.version) return { command: 'version' };

  const given = SELECTORS.filter(([option]) => v[option] !== undefined);
  if (given.length > 1) throw new UsageError(`${given.map(([o]) => `--${o}`).join(' and ')} exclude each other: give one`);
  const identity = given.length ? forOption(given[0][0], () => userAssigned(given[0][1], v[given[0][0]] as string)) : SYSTEM_ASSIGNED;

  if (v.file !== undefined && !v.file.trim()) throw new UsageError('--file needs a path');
  const cloud = CLOUDS[choice('--cloud', v.cloud ?? 'AzureCloud', CLOUD_NAMES)];
  return {
    command: 'token',
    // The core's advice names the audience already: its badInput error is shown as it is.
    audience: parseAudience(v.audience ?? 'AzureDevOps', cloud),
    identity,
    source: forOption('source', () => parseIdentitySource(v.source)),
    cloud,
    timeoutSeconds: forOption('timeout', () => parseTimeoutSeconds(v.timeout ?? '')),
    output: choice('--output', v.output ?? 'token', OUTPUT_FORMATS),
    file: v.file,
    claims: v.claims ?? false,
  };
}

/** Runs a core check of one option's value; its advice is prefixed with the option. */
function forOption<T>(option: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (isManagedIdentityError(e)) throw new UsageError(`--${option}: ${formatMessage(e.key, e.args)}`);
    throw e;
  }
}

/** One of a fixed list, matched without regard to case. */
function choice<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a.toLowerCase() === value.trim().toLowerCase());
  if (!found) throw new UsageError(`${option} '${value}' is not one of: ${allowed.join(', ')}`);
  return found;
}

export function usage(): string {
  return `Usage: mi-token [options]

Gets a Microsoft Entra ID access token from this machine's managed identity
(for Azure DevOps unless told otherwise) and prints it, for agent start scripts:
  ./config.sh --unattended --auth pat --token "$(mi-token)" --url ... --pool ...

Options:
  --audience VALUE    ${AUDIENCE_PRESETS.join(', ')},
                      a resource URI, an App ID URI (api://my-app), an application ID GUID
                      or one <resource>/.default scope (default: AzureDevOps)
  --client-id GUID    use the user-assigned identity with this client ID,
  --object-id GUID      or this object (principal) ID,
  --resource-id ID      or this resource ID (/subscriptions/.../userAssignedIdentities/NAME);
                      one at most (default: the system-assigned identity)
  --source NAME       ${SOURCE_CHOICES.join(', ')} (default: auto, detected from the environment)
  --cloud NAME        ${CLOUD_NAMES.join(', ')}: where presets point (default: AzureCloud)
  --timeout SECONDS   the longest to wait, retries included (default: ${DEFAULT_TIMEOUT_SECONDS})
  --output FORMAT     token: the token alone; json: {token, expiresOn, tenantId, objectId, clientId};
                      env: export lines for eval (MI_TOKEN, MI_TOKEN_EXPIRES_ON, MI_TENANT_ID,
                      MI_OBJECT_ID, MI_CLIENT_ID); pwsh: the same as $env:NAME = '...' lines
                      (Invoke-Expression, or a .ps1 to dot-source); cmd: set "NAME=..." lines
                      (a .cmd to call) (default: token)
  --file PATH         write the output to PATH (mode 0600; on Windows the current user
                      alone, via icacls), replaced atomically, not to stdout
  --claims            print the token's decoded claims to stderr (never the token)
  -h, --help          show this help
  --version           show the version

stdout holds the output and nothing else; messages go to stderr, one line each.
Exit codes: 0 success; 2 bad arguments; 3 no managed identity endpoint, or this
host's endpoint set up wrongly; 4 the endpoint refused (identity not found,
wrong ID, unknown audience, bad answer); 5 timed out or throttled; 1 anything
else (for example the file cannot be written).
`;
}
