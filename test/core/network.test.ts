import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { createServer, IncomingMessage } from 'node:http';
import { AddressInfo, connect, Socket } from 'node:net';
import { send } from '../../src/core/http';
import { closeNetworkDispatchers, dispatcherFor } from '../../src/core/network';

describe('network settings', () => {
  afterEach(() => closeNetworkDispatchers());

  it('sends through the agent proxy with its credentials, and direct for bypassed hosts', async () => {
    const seen: IncomingMessage[] = [];
    // A CONNECT proxy on loopback: it records the request and tunnels to the target.
    const proxy = createServer((_req, res) => res.writeHead(405).end()).listen(0, '127.0.0.1');
    proxy.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
      seen.push(req);
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client).pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
    });
    await once(proxy, 'listening');
    const target = createServer((_req, res) => res.end('direct')).listen(0, '127.0.0.1');
    await once(target, 'listening');
    try {
      const settings = {
        proxy: { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, username: 'u', password: 'p', bypass: ['^http://localhost'] },
      };
      const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/x`;
      const viaProxy = await send({ url, timeoutMs: 2000, dispatcher: dispatcherFor(url, settings) });
      assert.equal(viaProxy.body, 'direct');
      assert.equal(seen.length, 1, 'went through the proxy');
      assert.equal(seen[0].url, new URL(url).host);
      assert.equal(seen[0].headers['proxy-authorization'], `Basic ${Buffer.from('u:p').toString('base64')}`);
      const bypassUrl = url.replace('127.0.0.1', 'localhost');
      const direct = await send({ url: bypassUrl, timeoutMs: 2000, dispatcher: dispatcherFor(bypassUrl, settings) });
      assert.equal(direct.body, 'direct');
      assert.equal(seen.length, 1);
    } finally {
      proxy.close();
      target.close();
    }
  });
});
