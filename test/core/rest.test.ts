/** The bearer-token guard and nextLink paging. */
import { strict as assert } from 'node:assert';
import { ManagedIdentityError } from '../../src/core/errors';
import { assertBearerUrl, collectPages, getWithToken } from '../../src/core/rest';

describe('REST calls', () => {
  it('sends a token over https, or over http only to loopback', () => {
    for (const url of ['https://management.azure.com/', 'http://127.0.0.1:8080/x', 'http://localhost/', 'http://[::1]:1/']) assert.doesNotThrow(() => assertBearerUrl(url), url);
    for (const url of ['http://management.azure.com/', 'http://10.0.0.4/', 'http://localhost.example.com/', 'ftp://127.0.0.1/', 'nonsense']) {
      assert.throws(() => assertBearerUrl(url), (e: ManagedIdentityError) => e.key === 'BearerNotHttps', url);
    }
  });

  it('refuses before sending anything', async () => {
    await assert.rejects(getWithToken('http://vault.invalid/secrets', 'secret-token', 'Key Vault'), (e: ManagedIdentityError) => e.key === 'BearerNotHttps' && !e.message.includes('secret-token'));
  });

  it('follows nextLink until there is none, relative links included', async () => {
    const pages: Record<string, { value: number[]; nextLink?: string }> = {
      'https://h/list': { value: [1, 2], nextLink: 'https://h/list?page=2' },
      'https://h/list?page=2': { value: [3], nextLink: '/list?page=3' },
      'https://h/list?page=3': { value: [] },
    };
    const seen: string[] = [];
    const items = await collectPages('https://h/list', 'X', 10, async (url) => (seen.push(url), pages[url]));
    assert.deepEqual(items, [1, 2, 3]);
    assert.equal(seen.length, 3);
  });

  it('treats the same link with the default port as the same page', async () => {
    const e = await collectPages('https://h/list', 'X', 10, async () => ({ value: [], nextLink: 'https://h:443/list' })).catch((x: ManagedIdentityError) => x);
    assert.equal((e as ManagedIdentityError).key, 'NextLinkRepeated');
  });
});
