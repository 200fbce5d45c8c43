/**
 * Azure DevOps connection data: GET {collection}/_apis/connectionData, the
 * call azure-devops-node-api's WebApi.connect() makes. A bearer token of an
 * identity that was added to the organization gets its identity; any other
 * token gets what the service answers then: a 401 (TF400813, TF401444 or
 * VS30063), the anonymous identity (organizations with public projects), or
 * a 203 HTML sign-in page. Shapes as the service sends them.
 */
import { randomUUID } from 'node:crypto';
import { bearerToken } from './bearer';
import type { EmulatedIdentity } from './identities';
import { normaliseResource } from './identities';
import type { AzureEmulator, Reply, RequestContext } from './server';

export const DEVOPS_CONNECTION_DATA_ROUTE = 'devops.connectionData';
/** The Azure DevOps application ID: the audience its tokens carry. */
const DEVOPS_RESOURCE = '499b84ac-1321-427f-aa17-267ca6975798';
/** The identity Azure DevOps reports for a request it did not authenticate. */
export const DEVOPS_ANONYMOUS_ID = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';

export type DevOpsRefusal = 'TF400813' | 'TF401444' | 'VS30063';

export interface DevOpsOrganization {
  readonly instanceId: string;
  /** What a token of an identity that is not a member gets. */
  whenNotMember: 'unauthorized' | 'anonymous' | 'signIn';
  /** The error code a 401 carries. */
  refusal: DevOpsRefusal;
  /** Adds the identity as a user of the organization (as the Users page does), returning its Azure DevOps ID. */
  addMember(identity: EmulatedIdentity): string;
  /** Azure DevOps identity IDs by Entra object ID. */
  readonly members: Map<string, { id: string; identity: EmulatedIdentity }>;
}

const orgs = new WeakMap<AzureEmulator, DevOpsOrganization>();

/** The emulated organization of an emulator (no members by default). */
export function devopsOf(emu: AzureEmulator): DevOpsOrganization {
  let org = orgs.get(emu);
  if (!org) {
    const members = new Map<string, { id: string; identity: EmulatedIdentity }>();
    org = {
      instanceId: randomUUID(),
      whenNotMember: 'unauthorized',
      refusal: 'TF400813',
      members,
      addMember(identity) {
        const existing = members.get(identity.objectId.toLowerCase());
        if (existing) return existing.id;
        const id = randomUUID();
        members.set(identity.objectId.toLowerCase(), { id, identity });
        return id;
      },
    };
    orgs.set(emu, org);
  }
  return org;
}

function identityJson(id: string, descriptor: string, subjectDescriptor: string, displayName: string, account: string, metaTypeId: number) {
  return {
    id,
    descriptor,
    subjectDescriptor,
    providerDisplayName: displayName,
    isActive: true,
    properties: { Account: { $type: 'System.String', $value: account } },
    resourceVersion: 2,
    metaTypeId,
  };
}

function connectionData(org: DevOpsOrganization, user: ReturnType<typeof identityJson>) {
  return {
    authenticatedUser: user,
    authorizedUser: user,
    instanceId: org.instanceId,
    deploymentId: org.instanceId,
    deploymentType: 'hosted',
    locationServiceData: {
      serviceOwner: '00025394-6065-48ca-87d9-7f5672854ef7',
      defaultAccessMappingMoniker: 'PublicAccessMapping',
      lastChangeId: 1,
      lastChangeId64: 1,
    },
  };
}

const REFUSALS: Record<DevOpsRefusal, (who: string) => string> = {
  TF400813: (who) => `TF400813: The user '${who}' is not authorized to access this resource.`,
  TF401444: (who) => `TF401444: Please sign-in at least once as ${who} in a web browser to enable access to the service.`,
  VS30063: () => 'VS30063: You are not authorized to access https://dev.azure.com.',
};

const SIGN_IN_PAGE =
  '<!DOCTYPE html><html lang="en-US"><head><title>Azure DevOps Services | Sign In</title><meta http-equiv="X-UA-Compatible" content="IE=11;&#32;IE=10;&#32;IE=9;&#32;IE=8" /></head><body><div class="header">Sign In</div><a href="https://app.vssps.visualstudio.com/_signin">Sign in</a></body></html>';

function notMember(emu: AzureEmulator, org: DevOpsOrganization, who: string): Reply {
  if (org.whenNotMember === 'signIn') return { status: 203, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body: SIGN_IN_PAGE };
  if (org.whenNotMember === 'anonymous') {
    return {
      status: 200,
      body: connectionData(
        org,
        identityJson(DEVOPS_ANONYMOUS_ID, `System:PublicAccess;${DEVOPS_ANONYMOUS_ID}`, `s2s.${Buffer.from(DEVOPS_ANONYMOUS_ID).toString('base64url')}`, 'Anonymous', 'Anonymous', 255),
      ),
    };
  }
  const message = REFUSALS[org.refusal](who);
  return {
    status: 401,
    headers: {
      'WWW-Authenticate': `Bearer authorization_uri=https://login.microsoftonline.com/${emu.machine.tenantId}, Basic realm="https://tfsprodweu5.visualstudio.com/", TFS-Federated`,
      'X-TFS-ServiceError': encodeURIComponent(message),
      'X-VSS-ResourceTenant': emu.machine.tenantId,
    },
    body: {
      $id: '1',
      innerException: null,
      message,
      typeName: 'Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, Microsoft.TeamFoundation.Framework.Server',
      typeKey: 'UnauthorizedRequestException',
      errorCode: 0,
      eventId: 3000,
    },
  };
}

export function registerDevOps(emu: AzureEmulator): void {
  emu.route(DEVOPS_CONNECTION_DATA_ROUTE, 'GET', /^(\/[^/]+)?\/_apis\/connectionData$/, (ctx) => {
    // Every answer carries the IDs Azure DevOps support asks for.
    const reply = connectionDataReply(emu, ctx);
    return { ...reply, headers: { ActivityId: randomUUID(), 'X-VSS-E2EID': randomUUID(), ...reply.headers } };
  });
}

function connectionDataReply(emu: AzureEmulator, ctx: RequestContext): Reply {
  const org = devopsOf(emu);
  const token = bearerToken(emu, ctx).minted;
  const tid = emu.machine.tenantId;
  if (!token || normaliseResource(String(token.claims.aud)) !== DEVOPS_RESOURCE) return notMember(emu, org, 'Anonymous');
  const oid = String(token.claims.oid);
  const member = org.members.get(oid.toLowerCase());
  if (!member) return notMember(emu, org, `${tid}\\${oid}`);
  const descriptor = `Microsoft.VisualStudio.Services.Claims.AadServicePrincipal;${tid}\\${oid}`;
  const subject = `aadsp.${Buffer.from(`${tid}\\${oid}`).toString('base64url')}`;
  return { status: 200, body: connectionData(org, identityJson(member.id, descriptor, subject, member.identity.name, `${member.identity.clientId}@${tid}`, 0)) };
}
