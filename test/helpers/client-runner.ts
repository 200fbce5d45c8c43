/**
 * Runs Microsoft's JavaScript clients (msal-node's ManagedIdentityApplication,
 * @azure/identity's ManagedIdentityCredential and DefaultAzureCredential) in
 * this process, one case after another, each with exactly its own
 * environment. Started by clients.ts under the Node binary a case needs:
 * `node client-runner.js <cases.json> <results.json>`. The clients read the
 * environment and keep state in static fields (msal-node caches the source
 * it picked and its tokens for the life of the process), so every case loads
 * them afresh. Tokens go only into the results file, never to stdout/stderr.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { sep } from 'node:path';
import type { ClientResult, NodeClientCase, NodeClientName } from './clients';

interface TokenOut {
  token: string;
  expiresOnMs: number;
  refreshOnMs?: number;
  source?: string;
}

function freshRequire<T>(id: string): T {
  const azure = `${sep}node_modules${sep}@azure${sep}`;
  for (const key of Object.keys(require.cache)) if (key.includes(azure)) delete require.cache[key];
  return require(id) as T;
}

function selectorOptions(c: NodeClientCase): Record<string, string> {
  const s = c.selector ?? {};
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

async function msalNode(c: NodeClientCase): Promise<TokenOut> {
  const msal = freshRequire<typeof import('@azure/msal-node')>('@azure/msal-node');
  const s = c.selector ?? {};
  const app = new msal.ManagedIdentityApplication({
    managedIdentityIdParams: { userAssignedClientId: s.clientId, userAssignedObjectId: s.objectId, userAssignedResourceId: s.resourceId },
    system: { disableInternalRetries: Boolean(c.options?.disableInternalRetries) },
  });
  const source = app.getManagedIdentitySource();
  const r = await app.acquireToken({ resource: c.resource });
  return { token: r.accessToken, expiresOnMs: r.expiresOn?.getTime() ?? NaN, refreshOnMs: r.refreshOn?.getTime(), source };
}

async function azureIdentity(c: NodeClientCase, which: 'ManagedIdentityCredential' | 'DefaultAzureCredential', signal: AbortSignal): Promise<TokenOut> {
  const identity = freshRequire<typeof import('@azure/identity')>('@azure/identity');
  const s = selectorOptions(c);
  const options = { ...(c.options ?? {}) };
  const credential =
    which === 'ManagedIdentityCredential'
      ? new identity.ManagedIdentityCredential({ ...s, ...options })
      : new identity.DefaultAzureCredential({
          ...(s.clientId ? { managedIdentityClientId: s.clientId } : {}),
          ...(s.resourceId ? { managedIdentityResourceId: s.resourceId } : {}),
          ...options,
        } as ConstructorParameters<typeof identity.DefaultAzureCredential>[0]);
  const scope = c.resource.endsWith('/.default') ? c.resource : `${c.resource.replace(/\/+$/, '')}/.default`;
  const r = await credential.getToken(scope, { abortSignal: signal });
  return { token: r.token, expiresOnMs: r.expiresOnTimestamp, refreshOnMs: r.refreshAfterTimestamp };
}

async function runCase(client: NodeClientName, c: NodeClientCase, baseEnv: Record<string, string>): Promise<ClientResult> {
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, baseEnv, c.env);
  const abort = new AbortController();
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(Object.assign(new Error(`no answer within ${c.timeoutMs ?? 30_000} ms`), { name: 'RunnerTimeout' }));
    }, c.timeoutMs ?? 30_000);
  });
  try {
    const work = client === 'msal-node' ? msalNode(c) : azureIdentity(c, client, abort.signal);
    const out = await Promise.race([work, timeout]);
    return { id: c.id, ok: true, ...out, expiresOn: Math.floor(out.expiresOnMs / 1000), ms: Date.now() - started };
  } catch (e) {
    const err = e as Error & { errorCode?: string; statusCode?: number; cause?: unknown };
    const cause = err.cause as (Error & { errorCode?: string }) | undefined;
    return {
      id: c.id,
      ok: false,
      error: { name: err.name, message: String(err.message), code: err.errorCode ?? cause?.errorCode, causeMessage: cause?.message },
      ms: Date.now() - started,
    };
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<void> {
  const [casesFile, resultsFile] = process.argv.slice(2);
  const input = JSON.parse(readFileSync(casesFile, 'utf8')) as { client: NodeClientName; baseEnv: Record<string, string>; cases: NodeClientCase[] };
  const results: ClientResult[] = [];
  for (const c of input.cases) results.push(await runCase(input.client, c, input.baseEnv));
  writeFileSync(resultsFile, JSON.stringify(results), { mode: 0o600 });
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
