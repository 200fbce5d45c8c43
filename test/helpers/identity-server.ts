/** Raw requests to an identity server: any method, path, Host and headers (fetch would not send a Host of our choosing). */
import { request } from 'node:http';
import { TaskRun, variableEnvName } from '../../emulator/agent';

/** The environment a later step of the job gets from a run: every plain variable it set, named as the agent names them. */
export function laterStepEnv(run: TaskRun): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, v] of run.variables) if (!v.secret) env[variableEnvName(name)] = v.value;
  return env;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: Record<string, unknown>;
}

export function rawRequest(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { Host: `127.0.0.1:${port}`, ...options.headers }, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(body) as Record<string, unknown>;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
