/** The emulator's Resource Manager, MSI_ENDPOINT, instance metadata and Azure DevOps routes answer as the services do. */
import { strict as assert } from 'node:assert';
import { AzureEmulator, DEVOPS_ANONYMOUS_ID, devopsOf, msiEndpointEnv, worldOf } from '../../emulator';
import { useEmulator } from '../helpers/emulator';

describe('the emulator, beyond IMDS tokens', () => {
  let emu: AzureEmulator;
  useEmulator({ userAssigned: ['one'] }, (e) => {
    emu = e;
  });

  async function msiToken(resource: string, extra: Record<string, string> = {}): Promise<string> {
    const res = await fetch(msiEndpointEnv(emu).MSI_ENDPOINT, { method: 'POST', headers: { Metadata: 'true', 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ resource, ...extra }) });
    assert.equal(res.status, 200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  async function json(url: string, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('serves MSI_ENDPOINT tokens for a POSTed form, with Metadata: true, by client_id too', async () => {
    const noHeader = await fetch(msiEndpointEnv(emu).MSI_ENDPOINT, { method: 'POST', body: new URLSearchParams({ resource: 'https://management.azure.com/' }) });
    assert.equal(noHeader.status, 400);
    await msiToken('https://management.azure.com/', { client_id: emu.machine.userAssigned[0].clientId });
    assert.equal(emu.minted.at(-1)?.claims.oid, emu.machine.userAssigned[0].objectId);
  });

  it('lists subscriptions to a Resource Manager token only, with ARM error shapes otherwise', async () => {
    const url = `${emu.url}/subscriptions?api-version=2019-11-01`;
    assert.deepEqual(await json(url), { status: 401, body: { error: { code: 'AuthenticationFailed', message: "Authentication failed. The 'Authorization' header is missing." } } });
    const graph = await json(url, await msiToken('https://graph.microsoft.com'));
    assert.equal((graph.body.error as { code: string }).code, 'InvalidAuthenticationTokenAudience');
    assert.equal((await json(`${emu.url}/subscriptions`, 'x')).status, 400);
    const ok = await json(url, await msiToken('https://management.azure.com/'));
    assert.equal(ok.status, 200);
    const [sub] = ok.body.value as Array<Record<string, unknown>>;
    assert.deepEqual(Object.keys(sub).sort(), ['authorizationSource', 'displayName', 'id', 'managedByTenants', 'state', 'subscriptionId', 'subscriptionPolicies', 'tenantId']);
    assert.equal(sub.id, `/subscriptions/${emu.machine.subscriptionId}`);
    // No role anywhere in the subscription: the list is empty.
    worldOf(emu).roleAssignments.length = 0;
    assert.deepEqual((await json(url, emu.minted.at(-1)!.token)).body, { value: [], count: { type: 'Total', value: 0 } });
  });

  it('publishes cloud metadata naming an authority with an OpenID configuration', async () => {
    const meta = await json(`${emu.url}/metadata/endpoints?api-version=2015-01-01`);
    const login = (meta.body.authentication as { loginEndpoint: string }).loginEndpoint;
    assert.equal(login, `${emu.httpsUrl}/adfs`);
    const oidc = await json(`${emu.url}/adfs/.well-known/openid-configuration`);
    assert.ok(String(oidc.body.token_endpoint).startsWith(login));
  });

  it('answers connection data for members, and as Azure DevOps does for anyone else', async () => {
    const token = await msiToken('499b84ac-1321-427f-aa17-267ca6975798');
    const url = `${emu.url}/contoso/_apis/connectionData`;
    const refused = await json(url, token);
    assert.equal(refused.status, 401);
    assert.match(String(refused.body.message), /^TF400813: The user '.*\\.*' is not authorized to access this resource\.$/);
    devopsOf(emu).whenNotMember = 'anonymous';
    const anonymous = await json(url, token);
    assert.equal((anonymous.body.authenticatedUser as { id: string }).id, DEVOPS_ANONYMOUS_ID);
    const id = devopsOf(emu).addMember(emu.machine.systemAssigned!);
    const member = await json(url, token);
    const user = member.body.authenticatedUser as Record<string, unknown>;
    assert.equal(user.id, id);
    assert.match(String(user.descriptor), /^Microsoft\.VisualStudio\.Services\.Claims\.AadServicePrincipal;/);
    assert.deepEqual(Object.keys(member.body).sort(), ['authenticatedUser', 'authorizedUser', 'deploymentId', 'deploymentType', 'instanceId', 'locationServiceData']);
    devopsOf(emu).whenNotMember = 'signIn';
    const page = await fetch(url, { headers: { Authorization: 'Bearer not-a-token' } });
    assert.equal(page.status, 203);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  });
});
