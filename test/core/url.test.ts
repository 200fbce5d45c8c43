/** The one set of safe-URL rules for URLs from outside (environment variables, the armEndpoint input). */
import { strict as assert } from 'node:assert';
import { checkUrl, isLoopbackHost } from '../../src/core/url';

describe('safe URLs', () => {
  it('knows loopback: 127.0.0.0/8, ::1 and localhost', () => {
    for (const host of ['127.0.0.1', '127.255.3.4', '[::1]', '::1', 'localhost', 'LOCALHOST']) assert.ok(isLoopbackHost(host), host);
    for (const host of ['10.0.0.1', '128.0.0.1', '192.168.1.1', 'localhost.example.com', 'mylocalhost', '[::2]', '127.0.0.1.nip.io']) assert.ok(!isLoopbackHost(host), host);
  });

  it('takes an http(s) URL on one line without a user name or password, trimmed', () => {
    for (const raw of ['http://169.254.169.254', ' https://h:8443/msi/token?x=1 ']) assert.ok(checkUrl(raw) instanceof URL, raw);
    for (const raw of ['', 'nonsense', 'ftp://h/', 'file:///etc/passwd', 'http://user@h/', 'http://u:p@h/', 'http://h/a\nb', 'http://h/\tx']) {
      assert.equal(checkUrl(raw), 'malformed', JSON.stringify(raw));
    }
  });

  it('applies the scheme rule: https only, or https and http to loopback', () => {
    assert.equal(checkUrl('http://h/', { scheme: 'https' }), 'scheme');
    assert.ok(checkUrl('https://h/', { scheme: 'https' }) instanceof URL);
    for (const raw of ['http://127.0.0.1:5000', 'http://localhost', 'http://[::1]:1', 'https://login.microsoftonline.com']) {
      assert.ok(checkUrl(raw, { scheme: 'httpsOrLoopback' }) instanceof URL, raw);
    }
    for (const raw of ['http://login.microsoftonline.com', 'http://10.0.0.4', 'http://localhost.example.com']) {
      assert.equal(checkUrl(raw, { scheme: 'httpsOrLoopback' }), 'scheme', raw);
    }
  });

  it('refuses a query or fragment in a base URL, which would swallow the appended path', () => {
    for (const raw of ['http://h/?', 'http://h/?a=1', 'http://h/#', 'http://h/#x']) assert.equal(checkUrl(raw, { base: true }), 'notBase', raw);
    assert.ok(checkUrl('http://h/base/', { base: true }) instanceof URL);
  });
});
