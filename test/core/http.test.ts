/**
 * send() has two transports: Node's http module for a plain-HTTP endpoint
 * reached directly (local identity endpoints) and undici for everything else.
 * Both must answer alike: the same response shape, the same limits and the
 * same failure kinds. Each case runs on both against one loopback server.
 */
import { strict as assert } from 'node:assert';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { closeHttpAgents, HttpNetworkError, HttpRequest, NetworkFailure, send, undici } from '../../src/core/http';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const ROUTES: Record<string, Handler> = {
  '/echo': (req, res, body) => {
    res.setHeader('x-seen', JSON.stringify({ method: req.method, metadata: req.headers.metadata, length: req.headers['content-length'] ?? null, body }));
    res.setHeader('Retry-After', '7');
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  },
  '/silent': () => undefined,
  '/declared-large': (_req, res) => {
    res.writeHead(200, { 'content-length': String(2048) });
    res.end('x'.repeat(2048));
  },
  '/streamed-large': (_req, res) => {
    res.writeHead(200);
    for (let i = 0; i < 8; i++) res.write('y'.repeat(512));
    res.end();
  },
  '/cut': (req, res) => {
    res.writeHead(200, { 'content-length': '1000' });
    res.write('partial');
    setImmediate(() => req.socket.destroy());
  },
};

describe('send() over both transports', () => {
  let server: Server;
  let base: string;
  const sockets = new Set<Socket>();
  /** Requests that reached the server. */
  let received = 0;

  before(async () => {
    server = createServer((req, res) => {
      received++;
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('end', () => ROUTES[new URL(req.url ?? '/', 'http://x').pathname]?.(req, res, body));
    });
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
    await closeHttpAgents();
  });

  const transports: Array<[string, () => Partial<HttpRequest>]> = [
    ['node:http (no dispatcher)', () => ({})],
    ['undici (a dispatcher given)', () => ({ dispatcher: new (undici().Agent)() })],
  ];

  async function failure(req: HttpRequest): Promise<HttpNetworkError> {
    try {
      await send(req);
    } catch (e) {
      assert.ok(e instanceof HttpNetworkError, `not an HttpNetworkError: ${String(e)}`);
      return e;
    }
    assert.fail('send() succeeded');
  }

  for (const [name, transport] of transports) {
    describe(name, () => {
      it('returns status, lower-case headers and body, and sends method, headers and body', async () => {
        const res = await send({ url: `${base}/echo?x=1`, method: 'POST', headers: { Metadata: 'true' }, body: 'résource=a', timeoutMs: 5000, ...transport() });
        assert.equal(res.status, 201);
        assert.equal(res.body, '{"ok":true}');
        assert.equal(res.headers['retry-after'], '7');
        assert.deepEqual(JSON.parse(res.headers['x-seen']), { method: 'POST', metadata: 'true', length: String(Buffer.byteLength('résource=a')), body: 'résource=a' });
      });

      // Built when a test runs: the server's port is known only then.
      const cases: Array<[string, () => Partial<HttpRequest>, NetworkFailure, RegExp?]> = [
        ['a server that never answers, within the whole-exchange timeout', () => ({ url: `${base}/silent`, timeoutMs: 50 }), 'timeout'],
        ['an answer whose content-length is over the limit', () => ({ url: `${base}/declared-large`, maxBytes: 1024 }), 'tooLarge', /content-length 2048 > 1024/],
        ['an answer that grows over the limit while streaming', () => ({ url: `${base}/streamed-large`, maxBytes: 1024 }), 'tooLarge', /more than 1024 bytes/],
        ['a port nothing listens on', () => ({ url: 'http://127.0.0.1:1/' }), 'refused'],
      ];
      for (const [what, req, kind, detail] of cases) {
        it(`fails as '${kind}' on ${what}`, async () => {
          const e = await failure({ url: base, timeoutMs: 5000, ...req(), ...transport() });
          assert.equal(e.failure, kind, e.message);
          if (detail) assert.match(e.detail, detail);
        });
      }

      it('fails (not hangs, not succeeds) when the connection drops mid-answer', async () => {
        const e = await failure({ url: `${base}/cut`, timeoutMs: 5000, ...transport() });
        assert.notEqual(e.failure, 'tooLarge');
      });

      it('refuses a header value with a line break, sending nothing', async () => {
        const before = received;
        const e = await failure({ url: `${base}/echo`, headers: { Metadata: 'true\r\nX-Injected: 1' }, timeoutMs: 5000, ...transport() });
        assert.ok(e instanceof HttpNetworkError);
        assert.match(e.message, /Invalid character in header content \["Metadata"\]|invalid Metadata header/);
        assert.equal(received, before, 'no request reached the server');
      });
    });
  }
});
