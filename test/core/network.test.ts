import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { send } from '../../src/core/http';
import { closeNetworkDispatchers, dispatcherFor } from '../../src/core/network';
import { withConnectProxy } from '../helpers/proxy';

describe('network settings', () => {
  afterEach(() => closeNetworkDispatchers());

  it('sends through the agent proxy with its credentials, and direct for bypassed hosts', async () => {
    const target = createServer((_req, res) => res.end('direct')).listen(0, '127.0.0.1');
    await once(target, 'listening');
    await withConnectProxy(async (proxy) => {
      const seen = proxy.requests;
      const settings = {
        proxy: { url: proxy.url, username: 'u', password: 'p', bypass: ['^http://localhost'] },
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
    }).finally(() => target.close());
  });
});
