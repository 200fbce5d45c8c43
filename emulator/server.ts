/**
 * The Azure emulator: one loopback HTTP server whose routes are registered by
 * protocol modules (IMDS, App Service, Arc, …). It records every request, keeps every token it
 * minted, and plays scripted faults. Tests, the demo and the benchmark use it;
 * it never listens on anything but loopback.
 */
import { once } from 'node:events';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { Faults, FaultStep } from './faults';
import { Machine, MachineOptions } from './identities';
import { mintToken, MintedToken, MintInput } from './jwt';
import { EmulatorCertificate, emulatorCertificate } from './tls';

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
}

export interface RequestContext {
  req: IncomingMessage;
  url: URL;
  body: string;
  /** Header lookup, case-insensitive, first value. */
  header(name: string): string | undefined;
  /** What a RegExp route's path matched (without regard to case). */
  match?: RegExpExecArray;
}

export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

export interface RecordedRequest {
  route: string;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

interface Route {
  name: string;
  method: string;
  path: string | RegExp;
  handler: Handler;
}

export type EmulatorOptions = MachineOptions;

export class AzureEmulator {
  readonly machine: Machine;
  readonly faults = new Faults();
  readonly requests: RecordedRequest[] = [];
  readonly minted: MintedToken[] = [];
  /** Other secrets it handed out (identity headers, Arc keys, federated assertions), for the secret scan. */
  readonly secrets: string[] = [];
  private readonly routes: Route[] = [];
  private readonly sockets = new Set<Socket>();
  private servers: Server[] = [];
  private baseUrl = '';
  private httpsBaseUrl = '';
  private certificate: EmulatorCertificate | undefined;

  constructor(options: EmulatorOptions = {}) {
    this.machine = new Machine(options);
  }

  /** http://127.0.0.1:<port>, once started. */
  get url(): string {
    if (!this.baseUrl) throw new Error('The emulator is not started: call start() first.');
    return this.baseUrl;
  }

  /** https://127.0.0.1:<port>: the same routes over TLS with a self-signed certificate (see tls). */
  get httpsUrl(): string {
    if (!this.httpsBaseUrl) throw new Error('The emulator is not started: call start() first.');
    return this.httpsBaseUrl;
  }

  /** The HTTPS listener's certificate: its PEM file to trust, its thumbprint to pin. */
  get tls(): EmulatorCertificate {
    if (!this.certificate) throw new Error('The emulator is not started: call start() first.');
    return this.certificate;
  }

  /**
   * Serves a path as Azure's services do: without regard to case, and with or
   * without a trailing slash (msal-node and @azure/identity ask IMDS for
   * /metadata/identity/oauth2/token/; App Service's MSI_ENDPOINT ends in a
   * slash). Handlers see the path without its trailing slashes.
   */
  route(name: string, method: string, path: string | RegExp, handler: Handler): this {
    const pattern = typeof path === 'string' ? routePath(path) : new RegExp(path.source, path.flags.includes('i') ? path.flags : `${path.flags}i`);
    this.routes.push({ name, method, path: pattern, handler });
    return this;
  }

  /** Mints a token and remembers it, so log scans can look for it. */
  mint(input: Omit<MintInput, 'tenantId' | 'nowSeconds' | 'lifetimeSeconds'> & Partial<MintInput>): MintedToken {
    const minted = mintToken({
      tenantId: this.machine.tenantId,
      nowSeconds: Math.floor(Date.now() / 1000),
      lifetimeSeconds: this.machine.tokenLifetimeSeconds,
      ...input,
    });
    this.minted.push(minted);
    return minted;
  }

  /** The requests one route received. */
  received(route: string): RecordedRequest[] {
    return this.requests.filter((r) => r.route === route);
  }

  /** Listens on loopback: HTTP on `port` (0: any free one) and HTTPS on a free port. */
  async start(port = 0, certificate?: EmulatorCertificate): Promise<this> {
    this.certificate = certificate ?? (await emulatorCertificate());
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.dispatch(req, res);
    const http = createServer(handler);
    const https = createHttpsServer({ cert: this.certificate.cert, key: this.certificate.key }, handler);
    for (const [server, p] of [[http, port], [https, 0]] as const) {
      server.on('connection', (s: Socket) => {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
      });
      server.listen(p, '127.0.0.1');
      await once(server, 'listening');
      this.servers.push(server);
    }
    this.baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    this.httpsBaseUrl = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
    return this;
  }

  /** Lets the process exit while the emulator still listens (for scripts that run a task in-process). */
  unref(): this {
    for (const s of this.servers) s.unref();
    return this;
  }

  async stop(): Promise<void> {
    const servers = this.servers;
    this.servers = [];
    for (const s of this.sockets) s.destroy();
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    url.pathname = url.pathname.replace(/(.)\/+$/, '$1');
    let match: RegExpExecArray | undefined;
    const route = this.routes.find((r) => {
      if (r.method !== req.method) return false;
      if (typeof r.path === 'string') return r.path === routePath(url.pathname);
      match = r.path.exec(url.pathname) ?? undefined;
      return !!match;
    });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const name = route?.name ?? 'unmatched';
    this.requests.push({ route: name, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });

    const fault = this.faults.next(name);
    if (fault && (await this.playFault(fault, res))) return;
    if (!route) {
      return send(res, { status: 404, body: { error: { code: 'NotFound', message: `The emulator has no route for ${req.method} ${url.pathname}.` } } });
    }
    try {
      const header = (n: string) => {
        const v = req.headers[n.toLowerCase()];
        return Array.isArray(v) ? v[0] : v;
      };
      send(res, await route.handler({ req, url, body, header, match }));
    } catch (e) {
      send(res, { status: 500, body: { error: 'emulator_error', error_description: String(e) } });
    }
  }

  /** Plays a fault; returns true when it answered (or hung), false when the real handler should answer. */
  private async playFault(step: FaultStep, res: ServerResponse): Promise<boolean> {
    if (step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
    if (step.hang) return true;
    if (step.reset) {
      res.socket?.destroy();
      return true;
    }
    if (step.status === undefined) return false;
    send(res, { status: step.status, headers: step.headers, body: step.body });
    return true;
  }
}

/** A path as routes compare it: lower case, without trailing slashes. */
function routePath(path: string): string {
  return path.toLowerCase().replace(/(.)\/+$/, '$1');
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return;
  const isText = typeof reply.body === 'string';
  const payload = reply.body === undefined ? '' : isText ? (reply.body as string) : JSON.stringify(reply.body);
  const headers: Record<string, string> = {
    ...(reply.body !== undefined && !isText ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
    ...reply.headers,
    'Content-Length': String(Buffer.byteLength(payload)),
  };
  res.writeHead(reply.status, headers);
  res.end(payload);
}
