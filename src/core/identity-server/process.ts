/**
 * Running the identity server in a process of its own that outlives the step
 * that starts it. The parent spawns it detached, with no stdio of its own
 * (stdin, stdout and stderr go to the null device, so the step's output pipes
 * close when the step ends) and a private IPC channel over which it sends the
 * configuration (the secrets never go through argv, the environment or a
 * file) and learns the port; then it disconnects and lets the server run.
 * The server inherits the step's environment, and with it the agent's
 * VSTS_PROCESS_LOOKUP_ID, by which the agent ends a job's leftover processes.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { closeHttpAgents } from '../http';
import type { IdentitySelector } from '../identity';
import { closeNetworkDispatchers } from '../network';
import { writeSecretFile } from '../secret-file';
import { selfStopRecord } from './control';
import { startIdentityServer, STOP_REQUEST } from './server';
import { acquireUpstream, UpstreamOptions } from './upstream';

export interface ServeConfig {
  secret: string;
  controlKey: string;
  chosen: IdentitySelector;
  /** Other selectors of the chosen identity (its client, object or resource ID), answered as the chosen one. */
  chosenAliases?: IdentitySelector[];
  upstream: Pick<UpstreamOptions, 'identitySource' | 'cloud' | 'network' | 'timeoutSeconds'>;
  allowedAudiences?: string[];
  audienceRefusal?: string;
  idleMs?: number;
  lifetimeMs?: number;
  /** Where the server leaves its signed report when it stops on its own (idle, lifetime), for the post-job step. */
  reportFile?: string;
}

export interface StartedServer {
  pid: number;
  port: number;
}

type ChildMessage = { started: StartedServer } | { failed: string };

/**
 * Starts `entry` (a script that calls runServerChild) with `node` in `env`
 * (default: this process's), sends it the configuration and waits for its
 * port. Fails after `timeoutMs` (the child is then ended).
 */
export function spawnIdentityServer(node: string, entry: string, config: ServeConfig, timeoutMs = 15_000, env: NodeJS.ProcessEnv = process.env): Promise<StartedServer> {
  const child: ChildProcess = spawn(node, [entry], { env, detached: true, stdio: ['ignore', 'ignore', 'ignore', 'ipc'], windowsHide: true });
  return new Promise<StartedServer>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill();
      reject(new Error(why));
    };
    const timer = setTimeout(() => fail(`the identity server did not start within ${timeoutMs / 1000} s`), timeoutMs);
    child.once('error', (e) => fail(e.message));
    child.once('exit', (code) => fail(`the identity server exited (code ${code}) before it listened`));
    child.once('message', (m: ChildMessage) => {
      if ('failed' in m) return fail(m.failed);
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.disconnect();
      child.unref();
      resolve(m.started);
    });
    child.send(config);
  });
}

/** The server process's body: reads its configuration from the parent, listens, reports its port, and runs until stopped. */
export function runServerChild(): void {
  process.once('message', (config: ServeConfig) => {
    void (async () => {
      try {
        const server = await startIdentityServer({
          ...config,
          upstream: acquireUpstream({ ...config.upstream, env: process.env }),
        });
        process.send?.({ started: { pid: process.pid, port: server.port } } satisfies ChildMessage);
        process.channel?.unref();
        const report = await server.stopped;
        if (report.stopReason !== STOP_REQUEST && config.reportFile) writeSecretFile(config.reportFile, selfStopRecord(config.controlKey, report));
      } catch (e) {
        process.send?.({ failed: e instanceof Error ? e.message : String(e) } satisfies ChildMessage);
      }
      await Promise.all([closeHttpAgents(), closeNetworkDispatchers()]);
      process.exit(0);
    })();
  });
}
