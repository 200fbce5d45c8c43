/**
 * Keeps every task's messages and localisation files in step:
 *  - copies the core's messages (src/core/messages.ts) and the shared task
 *    messages (tasks/common/messages.ts) into each task.json "messages",
 *  - writes task.loc.json (task.json with ms-resource: references),
 *  - writes Strings/resources.resjson/en-US/resources.resjson.
 * Run with `npm run loc`; a test fails when the files are out of date.
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { MESSAGES } from '../src/core/messages';
import { COMMON_MESSAGES } from '../tasks/common/messages';

type Json = Record<string, unknown>;

export interface LocFiles {
  taskJson: string;
  taskLocJson: string;
  resjson: string;
}

export function taskDirs(root: string): string[] {
  const tasks = join(root, 'tasks');
  return readdirSync(tasks)
    .map((d) => join(tasks, d))
    .filter((d) => existsSync(join(d, 'task.json')));
}

/** What the three files of a task should hold, given its task.json. */
export function locFiles(taskJsonText: string): LocFiles {
  const task = JSON.parse(taskJsonText) as Json;
  task.messages = { ...(task.messages as Record<string, string>), ...COMMON_MESSAGES, ...MESSAGES };
  const strings: Record<string, string> = {};
  const loc = JSON.parse(JSON.stringify(task)) as Json;
  const ref = (key: string, value: unknown): string | undefined => {
    if (typeof value !== 'string') return undefined;
    strings[`loc.${key}`] = value;
    return `ms-resource:loc.${key}`;
  };
  for (const key of ['friendlyName', 'description', 'helpMarkDown', 'releaseNotes', 'instanceNameFormat']) {
    if (key in loc) loc[key] = ref(key, loc[key]);
  }
  for (const g of (loc.groups as Json[] | undefined) ?? []) g.displayName = ref(`group.displayName.${String(g.name)}`, g.displayName);
  for (const i of (loc.inputs as Json[] | undefined) ?? []) {
    i.label = ref(`input.label.${String(i.name)}`, i.label);
    if (i.helpMarkDown !== undefined) i.helpMarkDown = ref(`input.help.${String(i.name)}`, i.helpMarkDown);
  }
  const messages = loc.messages as Record<string, string>;
  for (const k of Object.keys(messages)) messages[k] = ref(`messages.${k}`, messages[k]) as string;
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  return { taskJson: json(task), taskLocJson: json(loc), resjson: json(strings) };
}

export function resjsonPath(taskDir: string): string {
  return join(taskDir, 'Strings', 'resources.resjson', 'en-US', 'resources.resjson');
}

/** Rewrites every task's task.json, task.loc.json and resources.resjson under root; returns the task folders. */
export function updateLocFiles(root: string): string[] {
  const dirs = taskDirs(root);
  for (const dir of dirs) {
    const files = locFiles(readFileSync(join(dir, 'task.json'), 'utf8'));
    writeFileSync(join(dir, 'task.json'), files.taskJson);
    writeFileSync(join(dir, 'task.loc.json'), files.taskLocJson);
    mkdirSync(join(resjsonPath(dir), '..'), { recursive: true });
    writeFileSync(resjsonPath(dir), files.resjson);
  }
  return dirs;
}

if (require.main === module) {
  for (const dir of updateLocFiles(join(__dirname, '..', '..'))) console.log(`updated ${dir}`);
}
