/**
 * How ManagedIdentityInfo@1 shows what it found: one list of blocks per
 * section (headings, fields, sentences, tables, problems), written once to
 * the log (every row, long tables folded in groups) and once as the markdown
 * summary (tables cut to their first rows, with a count of the rest).
 * Every text goes through tl.loc; nothing secret is in the report.
 */
import * as tl from 'azure-pipelines-task-lib/task';
import { AccessBasis, InfoReport, KeyVaultReport, Outcome, vaultAccess } from '../../src/core/info';
import type { InstanceInfo } from '../../src/core/instance';
import type { VmIdentities } from '../../src/core/vm-identities';
import type { Verdict } from '../../src/core/permissions';
import { external, warn } from '../common/log';
import { describeFailure, locMessage } from '../common/report';

/** A sentence whose verdict the markdown shows in bold. */
type Sentence = (em: (s: string) => string) => string;

export type Block =
  | { kind: 'heading'; text: string }
  | { kind: 'fields'; rows: Array<[string, string]> }
  | { kind: 'sentences'; lines: Sentence[] }
  | { kind: 'table'; title: string; headers: string[]; rows: string[][] }
  | { kind: 'problem'; text: string };

/** How many rows of a table the summary shows. */
export const SUMMARY_ROWS = 200;

const verdictText = (v: Verdict | 'unknown'): string =>
  tl.loc(v === 'yes' ? 'VerdictYes' : v === 'no' ? 'VerdictNo' : v === 'conditional' ? 'VerdictConditional' : 'VerdictUnknown');
const yesNo = (b: boolean): string => tl.loc(b ? 'Yes' : 'No');
const orNone = (s: string | undefined): string => (s ? s : tl.loc('None'));

/** Collects blocks, and tells each failure once (a token that could not be had fails every section that needs it). */
class Builder {
  readonly blocks: Block[] = [];
  failed = 0;
  private readonly told = new Set<Error>();

  push(block: Block): void {
    this.blocks.push(block);
  }

  problem(title: string, error: Error): void {
    this.failed++;
    if (this.told.has(error)) {
      this.push({ kind: 'sentences', lines: [() => tl.loc('SectionSkipped', title)] });
    } else {
      this.told.add(error);
      this.push({ kind: 'problem', text: tl.loc('SectionFailed', title, describeFailure(error)) });
    }
  }

  /** A heading, then the section's body or its problem. */
  section<T>(title: string, result: Outcome<T> | undefined, body: (value: T) => void): void {
    this.push({ kind: 'heading', text: title });
    if (!result) return;
    if (result.ok) body(result.value);
    else this.problem(title, result.error);
  }
}

/** Builds the blocks of every section, in order, and counts the sections that failed. */
export function reportBlocks(report: InfoReport): { blocks: Block[]; failed: number } {
  const b = new Builder();
  const group = report.scope.resourceGroup ?? '';
  if (report.instanceSkipped) b.push({ kind: 'sentences', lines: [() => tl.loc('InstanceSkipped', report.instanceSkipped)] });
  for (const name of report.sections) {
    switch (name) {
      case 'identity':
        b.section(tl.loc('SectionIdentity'), report.identity, (id) =>
          b.push({
            kind: 'fields',
            rows: [
              [tl.loc('FieldIdentity'), tl.loc('IdentityFrom', id.identity, id.source)],
              [tl.loc('FieldTenantId'), orNone(id.tenantId)],
              [tl.loc('FieldObjectId'), orNone(id.objectId)],
              [tl.loc('FieldClientId'), orNone(id.clientId)],
              [tl.loc('FieldMiResourceId'), orNone(id.resourceId)],
              [tl.loc('FieldIssuer'), orNone(id.issuer)],
              [tl.loc('FieldAudience'), orNone(id.audience)],
              [tl.loc('FieldExpires'), id.expiresOn],
            ],
          }),
        );
        break;
      case 'instance':
        b.section(tl.loc('SectionInstance'), report.instance, (vm) => b.push({ kind: 'fields', rows: instanceRows(vm) }));
        break;
      case 'identities':
        b.section(tl.loc('SectionIdentities'), report.identities, (ids) => identitiesBlocks(ids, b));
        if (report.identitiesNotShown) b.push({ kind: 'sentences', lines: [() => tl.loc('IdentitiesNotShown', describeFailure(report.identitiesNotShown))] });
        break;
      case 'keyVault':
        for (const kv of report.keyVaults ?? []) vaultBlocks(kv, b);
        break;
      case 'resources':
        b.section(tl.loc('SectionResources', group), report.resources, (r) => {
          b.push({
            kind: 'fields',
            rows: [
              [tl.loc('FieldSubscription'), r.subscription ? tl.loc('SubscriptionLine', r.subscription.displayName, r.subscription.subscriptionId, r.subscription.state) : report.scope.subscriptionId ?? ''],
              [tl.loc('FieldResourceGroup'), tl.loc('GroupLine', r.resourceGroup.name, r.resourceGroup.location, r.resourceGroup.provisioningState)],
              [tl.loc('FieldScopeFrom'), tl.loc(report.scope.from === 'instance' ? 'ScopeFromInstance' : 'ScopeFromInputs')],
            ],
          });
          b.push({ kind: 'sentences', lines: [() => tl.loc('ResourcesTotal', r.resources.length, r.byType.length)] });
          b.push({ kind: 'table', title: tl.loc('TableByType'), headers: [tl.loc('HeaderType'), tl.loc('HeaderCount')], rows: r.byType.map(([t, n]) => [t, String(n)]) });
          b.push({
            kind: 'table',
            title: tl.loc('TableResources', r.resources.length),
            headers: [tl.loc('HeaderName'), tl.loc('HeaderType'), tl.loc('HeaderLocation')],
            rows: r.resources.map((x) => [x.name, x.type, x.location]),
          });
        });
        break;
      case 'permissions':
        b.section(tl.loc('SectionPermissions', group), report.permissions, (p) => {
          const lines: Sentence[] = [(em) => tl.loc('CanReadGroup', group, em(verdictText(p.readResourceGroup)))];
          const keyVaultShown = report.sections.includes('keyVault');
          for (const kv of report.keyVaults ?? []) {
            const title = tl.loc('SectionKeyVault', kv.ref.name);
            if (!kv.vault.ok) {
              if (keyVaultShown) lines.push(() => tl.loc('VaultPermissionsUnknown', kv.ref.name));
              else b.problem(title, kv.vault.error);
            } else if (kv.permissions && !kv.permissions.ok) {
              b.problem(title, kv.permissions.error);
            } else if (kv.permissions) {
              const checks = kv.permissions.value;
              const access = vaultAccess(kv);
              lines.push((em) => tl.loc('CanReadVault', kv.ref.name, em(verdictText(checks.readVault))));
              lines.push((em) => tl.loc('CanReadSecrets', kv.ref.name, em(verdictText(access.readSecrets)), basisText(access.readBasis)));
            }
          }
          lines.push(() => tl.loc('DenyNotIncluded'));
          b.push({ kind: 'sentences', lines });
          b.push({
            kind: 'table',
            title: tl.loc('TablePermissions', p.scope, p.entries.length),
            headers: [tl.loc('HeaderActions'), tl.loc('HeaderNotActions'), tl.loc('HeaderDataActions'), tl.loc('HeaderCondition')],
            rows: p.entries.map((e) => [list(e.actions), list(e.notActions), list(e.dataActions), e.condition ? e.condition : '']),
          });
        });
        break;
    }
  }
  return { blocks: b.blocks, failed: b.failed };
}

const list = (v: string[] | undefined): string => (v && v.length ? v.join(', ') : '');

function basisText(basis: AccessBasis): string {
  return tl.loc(basis === 'listed' ? 'BasisListed' : basis === 'accessPolicy' ? 'BasisPolicy' : basis === 'rbac' ? 'BasisRbac' : 'BasisUnknown');
}

function instanceRows(vm: InstanceInfo): Array<[string, string]> {
  return [
    [tl.loc('FieldName'), vm.name],
    [tl.loc('FieldResourceId'), vm.resourceId],
    [tl.loc('FieldSubscription'), vm.subscriptionId],
    [tl.loc('FieldResourceGroup'), vm.resourceGroup],
    [tl.loc('FieldLocation'), vm.location],
    [tl.loc('FieldVmSize'), vm.vmSize],
    [tl.loc('FieldOs'), [vm.osType, vm.image].filter(Boolean).join(', ')],
    [tl.loc('FieldScaleSet'), orNone(vm.scaleSet)],
    [tl.loc('FieldZone'), orNone(vm.zone)],
    [tl.loc('FieldEnvironment'), orNone(vm.azEnvironment)],
    [tl.loc('FieldTags'), vm.tags.length ? vm.tags.map((t) => `${t.name}=${t.value}`).join(', ') : tl.loc('None')],
    [tl.loc('FieldPrivateIps'), vm.privateIps.length ? vm.privateIps.join(', ') : tl.loc('None')],
  ];
}

/** The identities assigned to the VM or scale set: the system-assigned one, then each user-assigned one, the one that asked marked. */
function identitiesBlocks(ids: VmIdentities, b: Builder): void {
  const mine = (principalId: string | undefined) => (principalId && ids.callerObjectId && principalId.toLowerCase() === ids.callerObjectId.toLowerCase() ? ` ${tl.loc('IdentitiesThisOne')}` : '');
  b.push({
    kind: 'fields',
    rows: [
      [tl.loc('FieldResourceId'), ids.resourceId],
      [tl.loc('FieldIdentityType'), ids.type],
      [tl.loc('FieldSystemAssigned'), ids.systemAssigned ? `${orNone(ids.systemAssigned.principalId)}${mine(ids.systemAssigned.principalId)}` : tl.loc('None')],
    ],
  });
  b.push({
    kind: 'table',
    title: tl.loc('TableUserAssigned', ids.userAssigned.length),
    headers: [tl.loc('HeaderName'), tl.loc('HeaderClientId'), tl.loc('HeaderPrincipalId'), tl.loc('FieldResourceId')],
    rows: ids.userAssigned.map((u) => [`${u.name}${mine(u.principalId)}`, orNone(u.clientId), orNone(u.principalId), u.resourceId]),
  });
  if (ids.userAssigned.length > 1) b.push({ kind: 'sentences', lines: [() => tl.loc('IdentitiesChoose')] });
}

function vaultBlocks(kv: KeyVaultReport, b: Builder): void {
  b.section(tl.loc('SectionKeyVault', kv.ref.name), kv.vault, (v) => {
    const access = vaultAccess(kv);
    const network = tl.loc('NetworkLine', v.publicNetworkAccess, v.networkDefaultAction, v.ipRules, v.virtualNetworkRules, v.networkBypass);
    const endpoints = v.privateEndpoints.length ? v.privateEndpoints.map((p) => `${p.name} (${p.status})`).join(', ') : tl.loc('None');
    b.push({
      kind: 'fields',
      rows: [
        [tl.loc('FieldVaultUri'), v.vaultUri],
        [tl.loc('FieldResourceGroup'), v.resourceGroup],
        [tl.loc('FieldLocation'), v.location],
        [tl.loc('FieldSku'), v.sku],
        [tl.loc('FieldTenantId'), v.tenantId],
        [tl.loc('FieldSoftDelete'), v.softDelete ? tl.loc('SoftDeleteDays', v.softDeleteRetentionDays) : tl.loc('No')],
        [tl.loc('FieldPurgeProtection'), yesNo(v.purgeProtection)],
        [tl.loc('FieldAuthorization'), v.authorization === 'rbac' ? tl.loc('AuthorizationRbac') : tl.loc('AuthorizationPolicies', v.accessPolicyCount)],
        [tl.loc('FieldNetwork'), network],
        [tl.loc('FieldPrivateEndpoints'), endpoints],
      ],
    });
    const lines: Sentence[] = [];
    if (v.accessPolicy) {
      const p = v.accessPolicy;
      lines.push(() => tl.loc('PolicyMine', list(p.secrets) || tl.loc('None'), list(p.keys) || tl.loc('None'), list(p.certificates) || tl.loc('None')));
    } else if (v.accessPolicy === null) {
      lines.push(() => tl.loc('PolicyNone', v.name));
    }
    lines.push((em) => tl.loc('CanListSecrets', v.name, em(verdictText(access.listSecrets)), basisText(access.listBasis)));
    lines.push((em) => tl.loc('CanReadSecrets', v.name, em(verdictText(access.readSecrets)), basisText(access.readBasis)));
    if (v.publicNetworkAccess.toLowerCase() === 'disabled') lines.push(() => tl.loc('PublicAccessDisabled', v.name));
    else if (v.networkDefaultAction.toLowerCase() === 'deny') lines.push(() => tl.loc('FirewallDeny', v.name));
    b.push({ kind: 'sentences', lines });
  });
  if (!kv.secrets) return;
  b.section(tl.loc('SectionSecrets', kv.ref.name), kv.secrets, (s) => {
    b.push({ kind: 'sentences', lines: [() => tl.loc('SecretsListed', s.secrets.length, kv.ref.name)] });
    b.push({
      kind: 'table',
      title: tl.loc('TableSecrets', kv.ref.name, s.secrets.length),
      headers: [tl.loc('HeaderName'), tl.loc('HeaderEnabled'), tl.loc('HeaderContentType'), tl.loc('HeaderUpdated'), tl.loc('HeaderExpires')],
      rows: s.secrets.map((x) => [x.name, x.enabled === undefined ? '' : yesNo(x.enabled), x.contentType ?? '', x.updated ?? '', x.expires ?? '']),
    });
  });
}

/** The notes (warnings that are not failures), localised. */
export function noteTexts(report: InfoReport): string[] {
  return report.notes.map(locMessage);
}

/**
 * Writes the blocks to the log: sections, aligned fields, every table row (long tables folded), problems as warnings.
 * What Azure returned (names, tags, messages) passes through external(), so no ##vso[ command in it is obeyed.
 */
export function writeLog(blocks: Block[]): void {
  const out: string[] = [];
  const flush = () => {
    if (out.length) console.log(out.splice(0).join('\n'));
  };
  for (const b of blocks) {
    switch (b.kind) {
      case 'heading':
        out.push('', `##[section]${external(b.text)}`);
        break;
      case 'fields': {
        const width = Math.max(...b.rows.map(([k]) => k.length));
        for (const [k, v] of b.rows) out.push(`  ${k.padEnd(width)}  ${external(v)}`);
        break;
      }
      case 'sentences':
        for (const line of b.lines) out.push(`  ${external(line((s) => s))}`);
        break;
      case 'table': {
        const folded = b.rows.length > 20;
        out.push(folded ? `##[group]${external(b.title)}` : `  ${external(b.title)}`);
        out.push(...alignedRows([b.headers, ...b.rows]).map((r) => `    ${external(r)}`));
        if (folded) out.push('##[endgroup]');
        break;
      }
      case 'problem':
        flush();
        warn(b.text);
        break;
    }
  }
  flush();
}

function alignedRows(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.min(60, Math.max(...rows.map((r) => (r[i] ?? '').length))));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd());
}

/** A table cell or text that cannot break the markdown. */
export function md(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/[\r\n]+/g, ' ');
}

/** The summary: a title, notes and problems first, then every section; tables cut to SUMMARY_ROWS rows. */
export function summaryMarkdown(blocks: Block[], notes: string[]): string {
  const out: string[] = [`## ${md(tl.loc('SummaryTitle'))}`, ''];
  for (const note of notes) out.push(`> **${md(tl.loc('Warning'))}:** ${md(note)}`, '');
  const table = (headers: string[], rows: string[][]) => {
    out.push(`| ${headers.map(md).join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`);
    for (const r of rows) out.push(`| ${r.map(md).join(' | ')} |`);
    out.push('');
  };
  for (const b of blocks) {
    switch (b.kind) {
      case 'heading':
        out.push(`### ${md(b.text)}`, '');
        break;
      case 'fields':
        table([tl.loc('HeaderSetting'), tl.loc('HeaderValue')], b.rows);
        break;
      case 'sentences':
        for (const line of b.lines) out.push(`- ${line((s) => `**${md(s)}**`)}`);
        out.push('');
        break;
      case 'table':
        out.push(`**${md(b.title)}**`, '');
        if (b.rows.length === 0) {
          out.push(`_${md(tl.loc('None'))}_`, '');
          break;
        }
        table(b.headers, b.rows.slice(0, SUMMARY_ROWS));
        if (b.rows.length > SUMMARY_ROWS) out.push(`_${md(tl.loc('TableMore', b.rows.length - SUMMARY_ROWS))}_`, '');
        break;
      case 'problem':
        out.push(`> **${md(tl.loc('Warning'))}:** ${md(b.text)}`, '');
        break;
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

