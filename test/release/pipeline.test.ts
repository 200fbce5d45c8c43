/**
 * azure-pipelines.yml read as data: valid YAML; every repository script it
 * runs exists and is executable; publishing only on a version tag, in the
 * publishing organization, with the Publish variable; the Marketplace token is
 * a Microsoft Entra token for Azure DevOps (no PAT anywhere).
 */
import { strict as assert } from 'node:assert';
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { findOnPath, ROOT } from '../../scripts/paths';

type Node = unknown;
interface Step {
  bash?: string;
  script?: string;
  task?: string;
  inputs?: Record<string, string>;
  env?: Record<string, string>;
}

const FILE = join(ROOT, 'azure-pipelines.yml');
const text = readFileSync(FILE, 'utf8');
const AZURE_DEVOPS = '499b84ac-1321-427f-aa17-267ca6975798';

/** Every step anywhere in the document, compile-time branches included. */
function steps(node: Node): Step[] {
  if (Array.isArray(node)) return node.flatMap(steps);
  if (!node || typeof node !== 'object') return [];
  const o = node as Record<string, Node>;
  const own = typeof o.bash === 'string' || typeof o.script === 'string' || typeof o.task === 'string' ? [o as Step] : [];
  return [...own, ...Object.values(o).flatMap(steps)];
}

/** The repository scripts a command line runs (.ci/…, scripts/…). */
const scriptsIn = (command: string): string[] => [...command.matchAll(/(?:^|[\s"'])((?:\.ci|scripts)\/[\w.-]+)/g)].map((m) => m[1]);

/** The repository scripts the pipeline runs, and those they run in turn. */
function repositoryScripts(): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (existsSync(join(ROOT, file))) for (const next of scriptsIn(readFileSync(join(ROOT, file), 'utf8'))) visit(next);
  };
  for (const s of steps(load(text))) for (const f of scriptsIn(s.bash ?? s.script ?? '')) visit(f);
  return [...seen];
}

describe('azure-pipelines.yml', () => {
  const doc = load(text) as Record<string, Node>;
  const all = steps(doc);

  it('is YAML with a trigger on every branch and on version tags, and on every pull request', () => {
    assert.deepEqual(doc.trigger, { branches: { include: ['*'] }, tags: { include: ['v*'] } });
    assert.deepEqual(doc.pr, { branches: { include: ['*'] } });
  });

  it('runs .ci/run on every run, and only scripts that exist and are executable', () => {
    const ci = (doc.stages as Array<Record<string, Node>>)[0];
    assert.equal(ci.stage, 'CI');
    assert.ok(steps(ci).some((s) => /(^|\s)\.ci\/run$/.test(s.bash ?? '')), 'the CI stage runs .ci/run');
    const scripts = repositoryScripts();
    assert.deepEqual(scripts.filter((s) => s.startsWith('.ci/')).sort(), ['.ci/package', '.ci/publish', '.ci/run']);
    for (const file of scripts) {
      assert.ok(existsSync(join(ROOT, file)), `${file} exists`);
      if (process.platform !== 'win32') accessSync(join(ROOT, file), constants.X_OK);
    }
  });

  it('uses only built-in tasks and this extension\'s own', () => {
    const tasks = new Set(all.flatMap((s) => (s.task ? [s.task] : [])));
    assert.deepEqual([...tasks].sort(), ['AzureCLI@2', 'ManagedIdentityToken@1', 'UseNode@1']);
  });

  it('packages on a version tag only, and publishes only in the publishing organization with Publish set to true', () => {
    const stages = doc.stages as Array<Record<string, Node>>;
    const tagged = stages.find((s) => Object.keys(s)[0] === "${{ if startsWith(variables['Build.SourceBranch'], 'refs/tags/v') }}");
    assert.ok(tagged, 'the tag-only stages are compiled in on a v* tag alone');
    const [packageStage, inOrg] = Object.values(tagged)[0] as Array<Record<string, Node>>;
    assert.equal(packageStage.stage, 'Package');
    assert.ok(steps(packageStage).some((s) => s.bash === '.ci/package "$(Build.SourceBranchName)"'));
    assert.match(JSON.stringify(packageStage), /"publish":"dist","artifact":"release"/);
    assert.deepEqual(Object.keys(inOrg), ["${{ if eq(variables['System.CollectionUri'], parameters.publishFrom) }}"]);
    const [publish] = Object.values(inOrg)[0] as Array<Record<string, Node>>;
    assert.equal(publish.stage, 'Publish');
    assert.equal(publish.condition, "and(succeeded(), eq(variables['Publish'], 'true'))");
    // Nothing outside that branch needs a service connection, a self-hosted pool or a secret: a fork runs the rest.
    const outside = JSON.stringify({ ...doc, stages: [stages[0], packageStage] });
    assert.ok(!/azureSubscription|MarketplaceToken|NPM_TOKEN|parameters\.managedIdentityPool/.test(outside));
  });

  it('publishes with a Microsoft Entra token for Azure DevOps, never a PAT', () => {
    const cli = all.find((s) => s.task === 'AzureCLI@2')!;
    assert.match(cli.inputs!.inlineScript, new RegExp(`az account get-access-token --resource ${AZURE_DEVOPS} `));
    assert.match(cli.inputs!.inlineScript, /##vso\[task\.setvariable variable=MarketplaceToken;issecret=true\]/);
    const mi = all.find((s) => s.task === 'ManagedIdentityToken@1')!;
    assert.deepEqual(mi.inputs, { audience: 'AzureDevOps', variableName: 'MarketplaceToken' });
    const publish = all.find((s) => s.bash?.startsWith('.ci/publish'))!;
    assert.equal(publish.env!.MARKETPLACE_TOKEN, '$(MarketplaceToken)');
    const script = readFileSync(join(ROOT, '.ci', 'publish'), 'utf8');
    assert.match(script, /--auth-type pat --token "\$MARKETPLACE_TOKEN"/, 'tfx takes the Entra token where a PAT would go (the Marketplace documents this)');
    for (const source of [text, script, readFileSync(join(ROOT, '.ci', 'package'), 'utf8')]) {
      assert.ok(!/\$\(\w*pat\w*\)|personal.?access|AZURE_DEVOPS_EXT_PAT|auth-type basic/i.test(source), 'no PAT variable or basic auth');
    }
  });

  it('has release scripts bash can parse', function () {
    const bash = findOnPath('bash');
    if (!bash) {
      console.warn('    SKIPPED: no bash on PATH to parse .ci/package and .ci/publish.');
      this.skip();
    }
    for (const file of ['.ci/run', '.ci/package', '.ci/publish']) {
      const r: SpawnSyncReturns<string> = spawnSync(bash as string, ['-n', join(ROOT, file)], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${file}: ${r.stderr}`);
    }
  });
});
