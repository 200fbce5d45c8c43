/**
 * The marketplace page (overview.md) against the code it describes: every
 * error and warning a task can print has a troubleshooting row, the hosts
 * table follows the detection order, the YAML examples use real inputs and
 * values, the input defaults are the task.json ones, and the pictures it
 * shows exist.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MESSAGES } from '../../src/core/messages';
import { SOURCES } from '../../src/core/sources/select';
import { taskDirs } from '../../scripts/loc';
import { ROOT } from '../../scripts/paths';

interface TaskInput {
  name: string;
  type: string;
  defaultValue?: string;
  options?: Record<string, string>;
  properties?: Record<string, string>;
}

interface TaskJson {
  name: string;
  inputs: TaskInput[];
  messages: Record<string, string>;
}

const overview = readFileSync(join(ROOT, 'overview.md'), 'utf8');
const tasks = new Map(taskDirs(ROOT).map((dir) => [`${(JSON.parse(readFileSync(join(dir, 'task.json'), 'utf8')) as TaskJson).name}@1`, JSON.parse(readFileSync(join(dir, 'task.json'), 'utf8')) as TaskJson]));
const allKeys = new Set([...tasks.values()].flatMap((t) => Object.keys(t.messages)));

/**
 * Message keys that are neither an error nor a warning: progress lines,
 * labels of the log and the summaries, and the Info task's findings. Every
 * other key (a new one too) needs a troubleshooting row.
 */
const INFORMATIONAL = new Set([
  // ManagedIdentityToken@1: progress and summary
  ...['TokenAcquired', 'ClaimsHeader', 'TokenNotJwt', 'VariablesSet', 'ExpiresOn', 'UseInScript', 'Done', 'CleanupDone'],
  ...['AzConfigDirCreated', 'AzConfigDirKept', 'AzVersion', 'AzLoggedIn', 'AzLoggedOut', 'AzCloudRestored', 'AzConfigDirRemoved'],
  ...['HoldsToken', 'HoldsDevOpsPat', 'HoldsAzureConfigDir', 'DevOpsPatSet', 'DevOpsVerified', 'TerraformSubscriptionFromImds', 'TerraformEnvSet'],
  ...['SummaryTitle', 'SummaryIdentity', 'SummaryIds', 'SummaryIdsValue', 'SummarySource', 'SummaryAudience', 'SummaryExpiry', 'SummaryExpiryValue'],
  ...['SummaryAzureCli', 'SummaryAzureCliValue', 'SummaryAzureDevOps', 'SummaryVariables', 'SummaryVariable', 'SummarySecret', 'SummaryHolds'],
  ...['SummaryYes', 'SummaryNo', 'SummaryUse', 'SummaryUseSameJob', 'SummaryUseOtherJob', 'SummaryNoOutputVariables', 'SummaryUseAzureCli', 'SummaryUseAzureDevOpsCli', 'SummaryUseTerraform'],
  // ManagedIdentityToken@1 serveIdentity: progress, variables and the served-usage summary
  ...['ServeStarted', 'ServeVariablesSet', 'ServeAllowedAudiences', 'ServeStopped', 'ServeStoppedItself', 'ServeNotRunning', 'HoldsIdentityEndpoint', 'HoldsIdentitySecret', 'HoldsMsiEndpoint'],
  ...['HoldsImdsEndpoint', 'HoldsUseMsi', 'HoldsClientId', 'ServeSummaryTitle', 'ServeSummaryNone', 'ServeSummaryAudience', 'ServeSummaryIdentity', 'ServeSummaryCount'],
  ...['ServeSummaryFirst', 'ServeSummaryLast', 'ServeSummaryClients', 'ServeSummaryRefused', 'ServeSummaryStopped'],
  // ManagedIdentityInfo@1: section titles, field and table labels, findings, wrappers of the warnings it prints
  ...['SectionIdentities', 'FieldIdentityType', 'FieldSystemAssigned', 'TableUserAssigned', 'HeaderClientId', 'HeaderPrincipalId', 'IdentitiesThisOne', 'IdentitiesChoose', 'IdentitiesNotShown'],
  ...['SectionIdentity', 'SectionInstance', 'SectionKeyVault', 'SectionSecrets', 'SectionResources', 'SectionPermissions', 'SectionFailed', 'SectionSkipped', 'InstanceSkipped'],
  ...['FieldIdentity', 'IdentityFrom', 'FieldTenantId', 'FieldObjectId', 'FieldClientId', 'FieldMiResourceId', 'FieldIssuer', 'FieldAudience', 'FieldExpires'],
  ...['FieldName', 'FieldResourceId', 'FieldSubscription', 'FieldResourceGroup', 'FieldLocation', 'FieldVmSize', 'FieldOs', 'FieldScaleSet', 'FieldZone'],
  ...['FieldEnvironment', 'FieldTags', 'FieldPrivateIps', 'FieldScopeFrom', 'ScopeFromInstance', 'ScopeFromInputs', 'SubscriptionLine', 'GroupLine'],
  ...['ResourcesTotal', 'TableByType', 'TableResources', 'FieldVaultUri', 'FieldSku', 'FieldSoftDelete', 'SoftDeleteDays', 'FieldPurgeProtection'],
  ...['FieldAuthorization', 'AuthorizationRbac', 'AuthorizationPolicies', 'FieldNetwork', 'NetworkLine', 'FieldPrivateEndpoints', 'PolicyMine', 'PolicyNone'],
  ...['CanListSecrets', 'CanReadSecrets', 'CanReadVault', 'CanReadGroup', 'VaultPermissionsUnknown', 'DenyNotIncluded', 'PublicAccessDisabled', 'FirewallDeny'],
  ...['BasisListed', 'BasisPolicy', 'BasisRbac', 'BasisUnknown', 'VerdictYes', 'VerdictNo', 'VerdictConditional', 'VerdictUnknown'],
  ...['SecretsListed', 'TableSecrets', 'TablePermissions', 'TableMore', 'Warning', 'Yes', 'No', 'None', 'JsonWritten', 'DoneOk'],
  ...['HeaderName', 'HeaderType', 'HeaderLocation', 'HeaderCount', 'HeaderEnabled', 'HeaderContentType', 'HeaderUpdated', 'HeaderExpires'],
  ...['HeaderActions', 'HeaderNotActions', 'HeaderDataActions', 'HeaderCondition', 'HeaderSetting', 'HeaderValue'],
]);

/** The text under a "## " heading, up to the next one. */
function section(title: string): string {
  const start = overview.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `overview.md has a "## ${title}" section`);
  const end = overview.indexOf('\n## ', start + 4);
  return overview.slice(start, end < 0 ? undefined : end);
}

/** The body rows of every markdown table in a text, as cells. */
function tableRows(text: string): string[][] {
  const lines = text.split('\n');
  const rows: string[][] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith('|') || /^\|[\s|:-]+\|$/.test(line)) return;
    if (lines[i + 1] !== undefined && /^\|[\s|:-]+\|$/.test(lines[i + 1])) return; // a header row
    rows.push(line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
  });
  return rows;
}

function codeSpans(text: string): string[] {
  return [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}

/** Every TypeScript file under a folder. */
function sources(dir: string): string[] {
  return (readdirSync(join(ROOT, dir), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(ROOT, dir, f));
}

const code = [...sources('src'), ...sources('tasks')].map((f) => ({ file: f, text: readFileSync(f, 'utf8') }));

describe('overview.md (the marketplace page)', () => {
  describe('troubleshooting', () => {
    const rows = tableRows(section('Troubleshooting'));
    /** The keys each row names: the code spans that end its first cell. */
    const documented = rows.map((cells) => {
      const tail = /((?:`\w+`(?:,\s*)?)+)$/.exec(cells[0]);
      return { symptom: cells[0], keys: tail ? codeSpans(tail[1]) : [] };
    });

    it('has a row, with its key, for every error and warning message of every task', () => {
      const named = new Set(documented.flatMap((d) => d.keys));
      const missing = [...allKeys].filter((k) => !INFORMATIONAL.has(k) && !named.has(k));
      assert.deepEqual(missing, [], `add troubleshooting rows (symptom → cause → fix, the key in a code span at the end of the symptom) for: ${missing.join(', ')}`);
    });

    it('names only message keys that exist, each row with a cause and a fix', () => {
      for (const d of documented) {
        assert.ok(d.keys.length > 0, `row "${d.symptom}" ends with its message key(s) in code spans`);
        for (const key of d.keys) assert.ok(allKeys.has(key), `row "${d.symptom}" names ${key}, which no task.json has`);
      }
      for (const cells of rows) assert.ok(cells.length === 3 && cells[1] && cells[2], `row "${cells[0]}" has a cause and a fix`);
    });

    it('leaves out only messages that are neither errors nor warnings', () => {
      for (const key of INFORMATIONAL) assert.ok(allKeys.has(key), `INFORMATIONAL names ${key}, which no task.json has`);
      for (const key of Object.keys(MESSAGES)) assert.ok(!INFORMATIONAL.has(key), `${key} is a core message: every one is an error or a warning`);
      const failing = [
        /tl\.warning\(\s*tl\.loc\(\s*'(\w+)'/g,
        /(?:Input|Localized)Error\(\s*tl\.loc\(\s*'(\w+)'/g,
        /TaskResult\.(?:Failed|SucceededWithIssues),\s*tl\.loc\(\s*'(\w+)'/g,
        /ManagedIdentityError\(\s*'\w+',\s*'(\w+)'/g,
        /\{\s*key:\s*'(\w+)'/g,
      ];
      for (const { file, text } of code) {
        for (const pattern of failing) {
          for (const m of text.matchAll(pattern)) assert.ok(!INFORMATIONAL.has(m[1]), `${file} prints ${m[1]} as an error or warning, but the test calls it informational`);
        }
      }
    });

    it('has no message in a task.json that the code never prints', () => {
      const unused = [...allKeys].filter((key) => !code.some(({ text }) => text.includes(`'${key}'`)));
      assert.deepEqual(unused, [], 'remove these from task.json (npm run loc), or print them');
    });
  });

  it('lists the supported hosts in the order they are detected, by their identitySource names', () => {
    const names = tableRows(section('Supported hosts')).map((cells) => codeSpans(cells[1])[0]);
    assert.deepEqual(names, SOURCES.map((s) => s.name));
  });

  it('gives in its YAML examples only inputs the tasks have, with values they accept', () => {
    let checked = 0;
    for (const block of overview.matchAll(/```yaml\n([\s\S]*?)```/g)) {
      let task: TaskJson | undefined;
      let inputsIndent = -1;
      let blockIndent = -1;
      for (const line of block[1].split('\n')) {
        const indent = line.search(/\S/);
        const taskRef = /-?\s*task:\s*(\S+)/.exec(line);
        if (taskRef) {
          task = tasks.get(taskRef[1]);
          assert.ok(task, `overview.md uses ${taskRef[1]}, which this extension does not have`);
          inputsIndent = -1;
          continue;
        }
        if (task && /^\s*inputs:\s*$/.test(line)) {
          inputsIndent = indent;
          continue;
        }
        if (!task || inputsIndent < 0 || indent < 0 || line.trim().startsWith('#')) continue;
        if (indent <= inputsIndent) {
          inputsIndent = -1;
          continue;
        }
        // The lines of a block scalar (a multi-line input's value).
        if (blockIndent >= 0 && indent > blockIndent) continue;
        blockIndent = -1;
        const m = /^\s*(\w+):\s*(.*?)\s*(?:#.*)?$/.exec(line);
        assert.ok(m, `an input line: ${line}`);
        const input = task.inputs.find((i) => i.name === m[1]);
        assert.ok(input, `${task.name}@1 has no input ${m[1]}`);
        if (/^[|>]-?$/.test(m[2])) {
          assert.equal(input.type, 'multiLine', `${input.name} takes one line`);
          blockIndent = indent;
          checked++;
          continue;
        }
        const choices = Object.keys(input.options ?? {});
        if (input.type === 'boolean') assert.match(m[2], /^(true|false)$/, `${input.name}: ${m[2]}`);
        else if (choices.length && input.type !== 'multiLine' && input.properties?.EditableOptions !== 'True') {
          assert.ok(choices.includes(m[2]), `${input.name}: ${m[2]} is not one of ${choices.join(', ')}`);
        }
        checked++;
      }
    }
    assert.ok(checked >= 20, `checked ${checked} inputs`);
  });

  it('gives the task.json defaults in its inputs table', () => {
    const table = /### Inputs of ManagedIdentityToken@1\n([\s\S]*?)\n\n/.exec(overview);
    assert.ok(table, 'an inputs table');
    const task = tasks.get('ManagedIdentityToken@1')!;
    const documented = new Set<string>();
    for (const [names, defaultCell] of tableRows(table[1])) {
      const inputs = codeSpans(names);
      for (const name of inputs) {
        const input = task.inputs.find((i) => i.name === name);
        assert.ok(input, `no input ${name}`);
        documented.add(name);
        // A row of several inputs gives the default they share.
        assert.equal(codeSpans(defaultCell)[0] ?? '', input.defaultValue ?? '', `default of ${name}`);
      }
    }
    const left = task.inputs.map((i) => i.name).filter((n) => !documented.has(n) && !['armEndpoint', 'armAudience'].includes(n));
    assert.deepEqual(left, [], 'inputs missing from the table');
  });

  it('reads output variables by names the task sets', () => {
    const named = new Set(['ManagedIdentityToken', ...[...overview.matchAll(/variableName:\s*(\w+)/g)].map((m) => m[1])]);
    const suffixes = ['', '.expiresOn', '.expiresOnUnix', '.tenantId', '.clientId', '.objectId', '.audience'];
    const refs = [...overview.matchAll(/outputs\['[^.']+\.([^']+)'\]/g)].map((m) => m[1]);
    assert.ok(refs.length >= 2);
    for (const ref of refs) assert.ok([...named].some((n) => suffixes.some((s) => ref === n + s)), `outputs['<step>.${ref}']`);
  });

  it('shows pictures that exist: PNGs of a sensible size', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'vss-extension.json'), 'utf8')) as { screenshots?: Array<{ path: string }> };
    const screenshots = (manifest.screenshots ?? []).map((s) => s.path);
    const images = [...overview.matchAll(/!\[[^\]]+\]\((images\/[^)]+)\)/g)].map((m) => m[1]);
    assert.ok(images.includes('images/summary-token.png'), 'the token summary screenshot');
    for (const shot of screenshots) assert.ok(images.includes(shot), `vss-extension.json's screenshot ${shot} is on the page too`);
    for (const image of images) {
      const png = readFileSync(join(ROOT, image));
      assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG', image);
      const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
      assert.ok(width >= 600 && width <= 2000 && height >= 300 && height <= 3000, `${image} is ${width}×${height}`);
      assert.ok(png.length < 300 * 1024, `${image} is ${png.length} bytes: keep the .vsix small`);
    }
  });
});
