/**
 * A hostile endpoint on loopback for the adversarial tests: a server that
 * answers each request with a behaviour (drip a body, hang after the
 * headers, stream chunks forever, redirect elsewhere, answer 410 with
 * Retry-After: 0, hand out a token with forged claims), a TCP server that
 * accepts and never speaks TLS, and what each received. Every token it mints
 * is registered with the secret scan.
 */
import { createServer as createHttpServer, IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, Server, Socket } from 'node:net';
import { unsignedJwt } from '../../emulator/jwt';
import { emulatorCertificate } from '../../emulator/tls';
import { watchTokens } from '../helpers/scan';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

export type Behaviour = (req: IncomingMessage, res: ServerResponse) => void;

export interface HostileServer {
  /** http(s)://127.0.0.1:port */
  url: string;
  requests: SeenRequest[];
  /** The PEM file of its certificate (https only), to trust it. */
  caFile?: string;
  stop(): Promise<void>;
}

/** Starts a server that gives every request to `behaviour`; `tls` serves https with the emulator's certificate. */
export async function startHostileServer(behaviour: Behaviour, options: { tls?: boolean } = {}): Promise<HostileServer> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    behaviour(req, res);
  };
  const cert = options.tls ? await emulatorCertificate() : undefined;
  const server = cert ? createHttpsServer({ cert: cert.cert, key: cert.key }, handler) : createHttpServer(handler);
  return listen(server, sockets, (port) => ({ url: `${cert ? 'https' : 'http'}://127.0.0.1:${port}`, requests, caFile: cert?.pemFile }));
}

/** A TCP server that accepts every connection and never says anything (no TLS handshake, no HTTP answer). */
export async function startSilentServer(): Promise<HostileServer> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => socket.on('error', () => undefined));
  return listen(server, sockets, (port) => ({ url: `https://127.0.0.1:${port}`, requests: [] }));
}

function listen(server: Server, sockets: Set<Socket>, describe: (port: number) => Omit<HostileServer, 'stop'>): Promise<HostileServer> {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        ...describe(port),
        stop: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Hostile answers. */
export const behave = {
  /** 200 with headers at once, then one byte of a JSON body every `everyMs`, never ending. */
  drip(everyMs = 200): Behaviour {
    return (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      const timer = setInterval(() => res.write(' '), everyMs);
      res.on('close', () => clearInterval(timer));
    };
  },
  /** 200 and its headers, then nothing. */
  hangAfterHeaders(): Behaviour {
    return (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
    };
  },
  /** A chunked body that never ends: a small chunk every `everyMs`. */
  endlessChunks(everyMs = 20): Behaviour {
    return (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      const timer = setInterval(() => res.write('[1,2,3,4,5,6,7,8]'), everyMs);
      res.on('close', () => clearInterval(timer));
    };
  },
  /** A redirect to `location`. */
  redirect(location: string, status = 302): Behaviour {
    return (_req, res) => {
      res.writeHead(status, { location });
      res.end();
    };
  },
  /** IMDS during an upgrade: 410 with Retry-After: 0. */
  gone(): Behaviour {
    return (_req, res) => {
      res.writeHead(410, { 'retry-after': '0', 'content-type': 'application/json' });
      res.end('{"error":"gone"}');
    };
  },
  /** A managed identity token answer whose token carries `claims` (over sensible defaults). */
  token(claims: Record<string, unknown>): Behaviour {
    return behave.tokenAnswer(() => forgedToken({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims }));
  },
  /** A managed identity token answer with the token `make` gives (register it with the scan). */
  tokenAnswer(make: () => string): Behaviour {
    return (_req, res) => {
      const expiresOn = Math.floor(Date.now() / 1000) + 3600;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: make(), expires_on: String(expiresOn), resource: 'https://management.azure.com/', token_type: 'Bearer' }));
    };
  },
};

/** A JWT with these claims, registered with the secret scan. */
export function forgedToken(claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const token = unsignedJwt({
    aud: 'https://management.azure.com/',
    iss: 'https://sts.windows.net/aaaabbbb-0000-cccc-1111-dddd2222eeee/',
    tid: 'aaaabbbb-0000-cccc-1111-dddd2222eeee',
    oid: '3b8f4f4c-8a43-4f0e-9d65-6f6c0f6f4e11',
    appid: '5e0b5b3c-6d2e-4f1a-9c3b-1b8f0c2d3e4f',
    iat: now,
    nbf: now,
    exp: now + 3600,
    ...claims,
  });
  watchTokens([token]);
  return token;
}

/** Forged logging commands a claim or a server's text might carry: after a line break and not. */
export const FORGED_COMMANDS = [
  '##vso[task.setvariable variable=PWNED]yes',
  'x\n##vso[task.prependpath]/tmp/pwned',
  '\r\n##vso[task.complete result=Failed]pwned',
  '##[error]forged error',
  'evil\u202Etxt.exe\u0000',
] as const;
