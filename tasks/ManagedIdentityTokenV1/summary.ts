/**
 * The markdown summary the token task attaches to the run (Extensions tab):
 * the identity, where the token came from, its audience and expiry, every
 * variable the task set and how later steps and jobs use them. Never the token.
 */
import * as tl from 'azure-pipelines-task-lib/task';
import { minutesLeft } from '../../src/core/lifetime';
import { attachSummary } from '../common/report';

export interface VariableRow {
  name: string;
  secret: boolean;
  /** What it holds, localised. */
  holds: string;
}

export interface SummaryFacts {
  variableName: string;
  /** The outputVariables input: whether other jobs can read the variables. */
  outputVariables: boolean;
  identity: string;
  source: string;
  audience: string;
  expiresOn: Date;
  tenantId?: string;
  clientId?: string;
  objectId?: string;
  variables: VariableRow[];
  azLogin?: { configDir: string; subscription?: string };
  devOps?: { exported: boolean; verifiedAs?: string };
  terraform: boolean;
}

/** The name the agent gives a variable in a script's environment: dots and spaces become `_`, upper case (hyphens stay). */
export function envVariableName(name: string): string {
  return name.replace(/[.\s]/g, '_').toUpperCase();
}

/** Markdown table cell: one line, no pipe. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

export function summaryMarkdown(f: SummaryFacts): string {
  const minutes = minutesLeft(f.expiresOn, Date.now());
  const rows: Array<[string, string | undefined]> = [
    [tl.loc('SummaryIdentity'), f.identity],
    [tl.loc('SummaryIds'), f.objectId || f.clientId || f.tenantId ? tl.loc('SummaryIdsValue', f.objectId ?? '-', f.clientId ?? '-', f.tenantId ?? '-') : undefined],
    [tl.loc('SummarySource'), f.source],
    [tl.loc('SummaryAudience'), `\`${f.audience}\``],
    [tl.loc('SummaryExpiry'), tl.loc('SummaryExpiryValue', f.expiresOn.toISOString(), minutes)],
    [tl.loc('SummaryAzureCli'), f.azLogin && tl.loc('SummaryAzureCliValue', f.azLogin.subscription ?? '-', f.azLogin.configDir)],
    [tl.loc('SummaryAzureDevOps'), f.devOps?.verifiedAs],
  ];
  const name = f.variableName;
  const envName = envVariableName(name);
  const lines = [
    `### ${tl.loc('SummaryTitle', name)}`,
    '',
    '| | |',
    '| --- | --- |',
    ...rows.filter(([, v]) => v).map(([k, v]) => `| ${cell(k)} | ${cell(v ?? '')} |`),
    '',
    `#### ${tl.loc('SummaryVariables')}`,
    '',
    `| ${tl.loc('SummaryVariable')} | ${tl.loc('SummarySecret')} | ${tl.loc('SummaryHolds')} |`,
    '| --- | --- | --- |',
    ...f.variables.map((v) => `| \`${v.name}\` | ${v.secret ? tl.loc('SummaryYes') : tl.loc('SummaryNo')} | ${cell(v.holds)} |`),
    '',
    `#### ${tl.loc('SummaryUse')}`,
    '',
    tl.loc('SummaryUseSameJob', envName),
    '',
    '```yaml',
    '- bash: ./deploy.sh',
    '  env:',
    `    TOKEN: $(${name})`,
    ...(f.devOps?.exported ? ['    AZURE_DEVOPS_EXT_PAT: $(AZURE_DEVOPS_EXT_PAT)'] : []),
    '```',
    '',
    ...(f.outputVariables
      ? [
          tl.loc('SummaryUseOtherJob'),
          '',
          '```yaml',
          '- job: next',
          '  dependsOn: <job>',
          '  variables:',
          `    token: $[ dependencies.<job>.outputs['<step>.${name}'] ]`,
          `    tokenExpiresOn: $[ dependencies.<job>.outputs['<step>.${name}.expiresOn'] ]`,
          '```',
        ]
      : [tl.loc('SummaryNoOutputVariables')]),
  ];
  if (f.azLogin) lines.push('', tl.loc('SummaryUseAzureCli'));
  if (f.devOps?.exported) lines.push('', tl.loc('SummaryUseAzureDevOpsCli'));
  if (f.terraform) lines.push('', tl.loc('SummaryUseTerraform'));
  return `${lines.join('\n')}\n`;
}

/** Writes the summary under the agent's temporary folder and attaches it to the run. */
export function uploadSummary(facts: SummaryFacts): string | undefined {
  return attachSummary(`ManagedIdentityToken-${facts.variableName}`, tl.loc('SummaryTitle', facts.variableName), summaryMarkdown(facts));
}
