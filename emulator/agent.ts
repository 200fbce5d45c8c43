/**
 * Runs a task folder the way the Azure Pipelines agent does: node <target>
 * with inputs as INPUT_* and variables as environment variables, reading the
 * ##vso logging commands it prints. The log it returns is masked as the agent
 * masks it. Used by the tests, the demo and the benchmark.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempFolder } from './temp';

export interface TaskVariable {
  value: string;
  secret: boolean;
  output: boolean;
}

export interface LoggingCommand {
  command: string;
  properties: Record<string, string>;
  message: string;
}

export interface TaskRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  commands: LoggingCommand[];
  result?: string;
  resultMessage?: string;
  /** Variables the task set for later steps of its job. */
  variables: Map<string, TaskVariable>;
  /** Output variables, read by later jobs as dependencies.<job>.outputs['<step>.<name>']. */
  outputs: Map<string, TaskVariable>;
  secrets: string[];
  /** Task variables (task.settaskvariable): the agent hands them to this task's post-job step. */
  taskVariables: Map<string, string>;
  /** Summary sections attached (task.addattachment of type Distributedtask.Core.Summary, or task.uploadsummary, titled with the file's name). */
  summaries: Array<{ title: string; file: string }>;
  /** The Agent.TempDirectory the run had (a post-job step of the same job shares it). */
  tempDirectory: string;
  /** The log as the agent shows it: secrets replaced by ***, commands hidden, debug lines only with System.Debug. */
  log: string;
  durationMs: number;
}

export interface RunTaskOptions {
  /** The task folder (holds task.json and the target). */
  taskDir: string;
  /** Which execution to run: "execution" (default) or "postjobexecution". */
  stage?: 'execution' | 'postjobexecution';
  inputs?: Record<string, string>;
  /** Pipeline variables (Agent.TempDirectory, System.Debug, …), set in the environment as the agent does. */
  variables?: Record<string, string>;
  /** Extra raw environment (endpoint variables of the host). */
  env?: Record<string, string>;
  /** Task variables set by the task's main step, for its post-job step (VSTS_TASKVARIABLE_*). */
  taskVariables?: Map<string, string> | Record<string, string>;
  /** The node binary (default: this process's). */
  nodePath?: string;
  /** Runs node through another program, such as Wine for a Windows node.exe. */
  wrapper?: TaskWrapper;
  timeoutMs?: number;
}

/**
 * How to run node.exe under Wine (or a like program): `command args… nodePath
 * script`, with the script and Agent.TempDirectory given as the guest's paths
 * and stdout and stderr sent to files (Wine 8 cannot write to a pipe).
 */
export interface TaskWrapper {
  command: string;
  args: string[];
  /** A path of this machine as the guest sees it (Z:\… under Wine). */
  toGuest(path: string): string;
  /** A path the guest printed, as this machine sees it. */
  fromGuest(path: string): string;
}

export function variableEnvName(name: string): string {
  return name.replace(/[.\s]/g, '_').toUpperCase();
}

export function taskTarget(taskDir: string, stage: 'execution' | 'postjobexecution' = 'execution'): string {
  const task = JSON.parse(readFileSync(join(taskDir, 'task.json'), 'utf8')) as Record<string, Record<string, { target: string }> | undefined>;
  const execution = task[stage];
  const handler = execution?.Node24 ?? execution?.Node20_1;
  if (!handler) throw new Error(`${taskDir}/task.json has no Node24 or Node20_1 ${stage}.`);
  return join(taskDir, handler.target.replace(/^\$\(currentDirectory\)[\\/]/, ''));
}

export async function runTask(options: RunTaskOptions): Promise<TaskRun> {
  const variables: Record<string, string> = {
    'Agent.TempDirectory': options.variables?.['Agent.TempDirectory'] ?? tempFolder('agent-temp-'),
    'Agent.Version': '4.266.2',
    'Agent.OS': 'Linux',
    'Agent.JobName': 'Job',
    'System.TeamFoundationCollectionUri': 'https://dev.azure.com/contoso/',
    'System.CollectionUri': 'https://dev.azure.com/contoso/',
    'System.ServerType': 'Hosted',
    'System.TeamProject': 'Demo',
    'System.HostType': 'build',
    'Build.BuildId': '42',
    ...options.variables,
  };
  const wrapper = options.wrapper;
  const guest = (name: string, value: string) => (wrapper && name === 'Agent.TempDirectory' ? wrapper.toGuest(value) : value);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? tmpdir(),
    ...Object.fromEntries(Object.entries(variables).map(([k, v]) => [variableEnvName(k), guest(k, v)])),
    ...Object.fromEntries(Object.entries(options.inputs ?? {}).map(([k, v]) => [`INPUT_${k.replace(/ /g, '_').toUpperCase()}`, v])),
    ...Object.fromEntries(
      [...(options.taskVariables instanceof Map ? options.taskVariables : Object.entries(options.taskVariables ?? {}))].map(([k, v]) => [`VSTS_TASKVARIABLE_${variableEnvName(k)}`, v]),
    ),
    ...options.env,
  };
  const started = Date.now();
  const temp = variables['Agent.TempDirectory'];
  const target = taskTarget(options.taskDir, options.stage);
  const node = options.nodePath ?? process.execPath;
  const files = wrapper && { stdout: join(temp, `.task-stdout-${started}.txt`), stderr: join(temp, `.task-stderr-${started}.txt`) };
  const fds = files && [openSync(files.stdout, 'w'), openSync(files.stderr, 'w')];
  const child = wrapper
    ? spawn(wrapper.command, [...wrapper.args, node, wrapper.toGuest(target)], { env, cwd: temp, stdio: ['ignore', fds![0], fds![1]] })
    : spawn(node, [target], { env, cwd: temp, stdio: ['ignore', 'pipe', 'pipe'] });
  fds?.forEach((fd) => closeSync(fd));
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);
  if (files) [stdout, stderr] = [readFileSync(files.stdout, 'utf8'), readFileSync(files.stderr, 'utf8')];
  const run = interpret(stdout, stderr, exitCode, Date.now() - started, /^true$/i.test(variables['System.Debug'] ?? ''));
  if (wrapper) run.summaries = run.summaries.map((s) => ({ ...s, file: wrapper.fromGuest(s.file) }));
  return { ...run, tempDirectory: temp };
}

/** The agent takes a command from anywhere in a line, not only its start. */
const COMMAND = /##vso\[([\w.]+)([^\]]*)\](.*)$/;

export function unescapeValue(s: string): string {
  return s.replace(/%AZP25|%0D|%0A|%3B|%5D/g, (m) => ({ '%AZP25': '%', '%0D': '\r', '%0A': '\n', '%3B': ';', '%5D': ']' })[m] ?? m);
}

export function parseCommand(line: string): LoggingCommand | undefined {
  const m = COMMAND.exec(line.trim());
  if (!m) return undefined;
  const properties: Record<string, string> = {};
  for (const pair of m[2].trim().split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0) properties[pair.slice(0, eq).trim()] = unescapeValue(pair.slice(eq + 1));
  }
  return { command: m[1], properties, message: unescapeValue(m[3]) };
}

function interpret(stdout: string, stderr: string, exitCode: number | null, durationMs: number, debug: boolean): Omit<TaskRun, 'tempDirectory'> {
  const commands: LoggingCommand[] = [];
  const variables = new Map<string, TaskVariable>();
  const outputs = new Map<string, TaskVariable>();
  const secrets: string[] = [];
  const taskVariables = new Map<string, string>();
  const summaries: Array<{ title: string; file: string }> = [];
  let result: string | undefined;
  let resultMessage: string | undefined;
  const shown: string[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const cmd = parseCommand(line);
    if (!cmd) {
      shown.push(line);
      continue;
    }
    commands.push(cmd);
    const p = cmd.properties;
    if (cmd.command === 'task.setvariable') {
      const secret = p.issecret === 'true';
      const output = p.isOutput === 'true' || p.isoutput === 'true';
      if (secret) secrets.push(cmd.message);
      (output ? outputs : variables).set(p.variable, { value: cmd.message, secret, output });
    } else if (cmd.command === 'task.setsecret') {
      secrets.push(cmd.message);
    } else if (cmd.command === 'task.settaskvariable') {
      if (p.issecret === 'true') secrets.push(cmd.message);
      taskVariables.set(p.variable, cmd.message);
    } else if (cmd.command === 'task.uploadsummary') {
      summaries.push({ title: cmd.message.split(/[\\/]/).pop() ?? cmd.message, file: cmd.message });
    } else if (cmd.command === 'task.addattachment' && p.type === 'Distributedtask.Core.Summary') {
      summaries.push({ title: p.name ?? '', file: cmd.message });
    } else if (cmd.command === 'task.complete') {
      result = p.result;
      resultMessage = cmd.message;
      // task-lib's setResult logs a Failed or SucceededWithIssues message as an issue first: show it once.
      const issue = commands.at(-2);
      const repeated = (issue?.command === 'task.logissue' || issue?.command === 'task.issue') && issue.message === cmd.message;
      if (!repeated) shown.push(`##[${result === 'Failed' ? 'error' : 'section'}]${cmd.message}`);
    } else if (cmd.command === 'task.logissue' || cmd.command === 'task.issue') {
      shown.push(`##[${p.type ?? 'warning'}]${cmd.message}`);
    } else if (cmd.command === 'task.debug' && debug) {
      shown.push(`##[debug]${cmd.message}`);
    }
  }
  const mask = (text: string) =>
    secrets.filter((s) => s.length > 0).sort((a, b) => b.length - a.length).reduce((t, s) => t.split(s).join('***'), text);
  return {
    exitCode,
    stdout,
    stderr,
    commands,
    result,
    resultMessage,
    variables,
    outputs,
    secrets,
    taskVariables,
    summaries,
    log: mask(shown.join('\n')),
    durationMs,
  };
}
