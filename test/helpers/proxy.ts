/** A CONNECT proxy on loopback for tests: it records each tunnel request and forwards it to the target. */
import { once } from 'node:events';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo, connect, Socket } from 'node:net';

export interface TestProxy {
  url: string;
  /** The CONNECT requests it received. */
  seen: IncomingMessage[];
  close(): void;
}

export async function startProxy(): Promise<TestProxy> {
  const seen: IncomingMessage[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => res.writeHead(405).end()).listen(0, '127.0.0.1');
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
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
