/** A loopback CONNECT proxy for tests: tunnels to the target and records each tunnel and its proxy credentials. */
import { once } from 'node:events';
import { createServer, IncomingMessage } from 'node:http';
import { AddressInfo, connect, Socket } from 'node:net';

export interface TestProxy {
  /** http://127.0.0.1:<port> */
  url: string;
  /** host:port of each tunnel, in order. */
  connects: string[];
  /** The CONNECT requests, with their headers. */
  requests: IncomingMessage[];
}

export async function withConnectProxy<T>(body: (proxy: TestProxy) => Promise<T>): Promise<T> {
  const requests: IncomingMessage[] = [];
  const server = createServer((_req, res) => res.writeHead(405).end()).listen(0, '127.0.0.1');
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    requests.push(req);
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await once(server, 'listening');
  const proxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    get connects() {
      return requests.map((r) => r.url ?? '');
    },
  };
  try {
    return await body(proxy);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}
