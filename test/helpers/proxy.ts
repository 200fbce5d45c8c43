/** A CONNECT proxy on loopback that records what it tunnels, for tests of the agent proxy settings. */
import { once } from 'node:events';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo, connect, Socket } from 'node:net';

export interface TestProxy {
  url: string;
  /** The CONNECT requests it received. */
  seen: IncomingMessage[];
  /** host:port of each tunnel, in order. */
  readonly connects: string[];
  close(): void;
}

export async function startProxy(): Promise<TestProxy> {
  const seen: IncomingMessage[] = [];
  const server: Server = createServer((_req, res) => res.writeHead(405).end()).listen(0, '127.0.0.1');
  const sockets = new Set<Socket>();
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    seen.push(req);
    sockets.add(client);
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    get connects() {
      return seen.map((r) => r.url ?? '');
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Runs body with a proxy that is closed afterwards. */
export async function withConnectProxy<T>(body: (proxy: TestProxy) => Promise<T>): Promise<T> {
  const proxy = await startProxy();
  try {
    return await body(proxy);
  } finally {
    proxy.close();
  }
}
