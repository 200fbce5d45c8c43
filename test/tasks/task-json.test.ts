/** Every task.json against the official schema, and the rules the marketplace and the agent rely on. */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv-draft-04';
import { MESSAGES } from '../../src/core/messages';
import { COMMON_MESSAGES } from '../../tasks/common/messages';
import { locFiles, resjsonPath, taskDirs } from '../../scripts/loc';
import { ROOT } from '../../scripts/paths';

interface TaskJson {
  id: string;
  name: string;
  friendlyName: string;
  version: { Major: number; Minor: number; Patch: number };
  minimumAgentVersion: string;
  category: string;
  instanceNameFormat: string;
  execution: Record<string, { target: string }>;
  postjobexecution?: Record<string, { target: string }>;
  inputs: Array<{ name: string; helpMarkDown?: string; visibleRule?: string; groupName?: string; type: string; options?: Record<string, string> }>;
  groups?: Array<{ name: string }>;
  outputVariables?: Array<{ name: string }>;
  messages: Record<string, string>;
}

/** The official task.json schema, from ../shared beside the clone (CI has it); a fresh clone has none and skips that check, loudly. */
const SCHEMA_FILE = join(ROOT, '..', 'shared', 'schemas', 'tasks.schema.json');
const schema = existsSync(SCHEMA_FILE) ? (JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object) : undefined;

/** The tl.loc keys a task's sources use. */
function locKeysUsed(dir: string): Set<string> {
  const keys = new Set<string>();
  const files = [...readdirSync(dir).map((f) => join(dir, f)), ...readdirSync(join(ROOT, 'tasks', 'common')).map((f) => join(ROOT, 'tasks', 'common', f))];
  for (const file of files.filter((f) => f.endsWith('.ts'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/tl\.loc\(\s*'(\w+)'/g)) keys.add(m[1]);
  }
  return keys;
}

describe('task.json', () => {
  const dirs = taskDirs(ROOT);
  const ids = new Set<string>();
  it('finds the tasks', () => assert.ok(dirs.length >= 1));

  for (const dir of dirs) {
    const raw = readFileSync(join(dir, 'task.json'), 'utf8');
    const task = JSON.parse(raw) as TaskJson;
    describe(task.name, () => {
      it('validates against ../shared/schemas/tasks.schema.json', function () {
        if (!schema) {
          console.warn(`    SKIPPED: the official task.json schema is not at ${SCHEMA_FILE} (CI puts it there); the other task.json checks still run.`);
          this.skip();
        }
        const validate = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false }).compile(schema);
        assert.ok(validate(task), JSON.stringify(validate.errors, null, 2));
      });

      it('has a v4 GUID of its own, version 1.x, and a short friendly name', () => {
        assert.match(task.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.ok(!ids.has(task.id));
        ids.add(task.id);
        assert.equal(task.version.Major, 1);
        assert.ok(task.friendlyName.length <= 40);
        assert.equal(task.category, 'Azure Pipelines');
        assert.ok(task.instanceNameFormat);
      });

      it('runs on Node20_1 and Node24 with the agent version they need', () => {
        for (const stage of [task.execution, task.postjobexecution].filter(Boolean)) {
          assert.deepEqual(Object.keys(stage!).sort(), ['Node20_1', 'Node24']);
        }
        // Node20_1 needs agent 3.232.1; the agent picks the highest handler it supports.
        assert.equal(task.minimumAgentVersion, '3.232.1');
      });

      it('has help on every input and only valid groups and rules', () => {
        const groups = new Set((task.groups ?? []).map((g) => g.name));
        const names = new Set(task.inputs.map((i) => i.name));
        for (const input of task.inputs) {
          assert.ok(input.helpMarkDown && input.helpMarkDown.length > 20, `${input.name} has helpMarkDown`);
          if (input.groupName) assert.ok(groups.has(input.groupName), `${input.name}: group ${input.groupName}`);
          for (const ref of input.visibleRule?.match(/\b[a-zA-Z]\w*(?=\s*(=|!=|==))/g) ?? []) assert.ok(names.has(ref), `${input.name} visibleRule names ${ref}`);
        }
      });

      it('declares output variables', () => assert.ok((task.outputVariables ?? []).length >= 1));

      it('has a message for every tl.loc key its code uses, and all the core messages word for word', () => {
        for (const key of locKeysUsed(dir)) assert.ok(key in task.messages, `message ${key}`);
        for (const [key, text] of Object.entries({ ...COMMON_MESSAGES, ...MESSAGES })) assert.equal(task.messages[key], text, `message ${key}`);
      });

      it('has task.loc.json and resources.resjson up to date (npm run loc)', () => {
        const expected = locFiles(raw);
        assert.equal(raw, expected.taskJson);
        assert.equal(readFileSync(join(dir, 'task.loc.json'), 'utf8'), expected.taskLocJson);
        assert.equal(readFileSync(resjsonPath(dir), 'utf8'), expected.resjson);
      });
    });
  }
});

describe('vss-extension.json', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'vss-extension.json'), 'utf8')) as { targets: Array<{ id: string; version?: string }> };

  it('installs on Azure DevOps Services and on Azure DevOps Server 2022 (19.x) and later, whose agents can have the Node20_1 handler', () => {
    assert.deepEqual(manifest.targets, [{ id: 'Microsoft.VisualStudio.Services.Cloud' }, { id: 'Microsoft.TeamFoundation.Server', version: '[19.0,)' }]);
  });

  it('keeps every task on agents 3.232.1 or newer (the Node20_1 handler)', () => {
    for (const dir of taskDirs(ROOT)) assert.equal((JSON.parse(readFileSync(join(dir, 'task.json'), 'utf8')) as { minimumAgentVersion: string }).minimumAgentVersion, '3.232.1', dir);
  });
});
