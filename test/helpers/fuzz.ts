/**
 * Seeded, deterministic fuzzing for the response parsers: a small PRNG,
 * random JSON, text and bytes, mutators of valid bodies, a fake token whose
 * parts must never reach a message, and a runner that names the seed and the
 * case (with its input) when a check fails.
 *
 * FUZZ_SEED=<n> explores other inputs; FUZZ_SCALE=<k> runs k times as many cases.
 */
import { strict as assert } from 'node:assert';
import { performance } from 'node:perf_hooks';
import { ManagedIdentityError } from '../../src/core/errors';

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** 0 ≤ n < max. */
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  /** n base64url characters. */
  b64url(n: number): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(64)];
    return s;
  }
}

const BASE_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : 20261124;
export const FUZZ_SCALE = Math.max(1, Number(process.env.FUZZ_SCALE) || 1);

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A fixed seed per name (so each parser gets its own inputs), moved by FUZZ_SEED. */
export function seedOf(name: string): number {
  return (BASE_SEED ^ hash(name)) >>> 0;
}

/** A token-shaped secret: none of it, its payload or its signature may appear in any message. */
export interface FakeToken {
  jwt: string;
  payload: string;
  signature: string;
}

export function fakeToken(rng: Rng): FakeToken {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const header = b64({ typ: 'JWT', alg: 'RS256', kid: 'fuzz' });
  const payload = b64({ aud: 'https://management.azure.com/', tid: 't', oid: 'o', fuzz_marker: `FUZZ-${rng.b64url(24)}`, pad: rng.b64url(300) });
  const signature = rng.b64url(342);
  return { jwt: `${header}.${payload}.${signature}`, payload, signature };
}

/** The secret parts a text holds, if any. */
export function leakIn(text: string, token: FakeToken): string | undefined {
  if (text.includes(token.jwt)) return 'the token';
  if (text.includes(token.payload)) return "the token's payload";
  if (text.includes(token.signature)) return "the token's signature";
  return undefined;
}

/** The longest message a parser may produce: every part taken from an answer is cut short. */
export const MAX_MESSAGE = 4000;

/** One line, bounded, and no part of the token. */
export function assertSafeText(text: string, token: FakeToken, what: string): void {
  const leak = leakIn(text, token);
  assert.ok(!leak, `${what} holds ${leak}`);
  assert.ok(!/[\r\n]/.test(text), `${what} spans lines: ${JSON.stringify(text.slice(0, 300))}`);
  assert.ok(text.length <= MAX_MESSAGE, `${what} is ${text.length} characters long`);
}

/** A ManagedIdentityError with a safe, non-empty message; anything else (TypeError, RangeError, …) fails with its stack. */
export function assertClearError(e: unknown, token: FakeToken): asserts e is ManagedIdentityError {
  if (!(e instanceof ManagedIdentityError)) {
    const err = e as Error;
    assert.fail(`threw ${err?.name ?? typeof e}, not a ManagedIdentityError: ${err?.message}\n${err?.stack ?? ''}`);
  }
  assert.ok(e.message.trim().length > 0, 'the message is empty');
  assertSafeText(e.message, token, `the message of ${e.key}`);
}

/** Runs fn and returns what it threw, or undefined. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

export async function rejected(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Longer than any case may take: a parser that takes this long is hung (or backtracking catastrophically). */
const HANG_MS = 2000;

export interface FuzzCase {
  rng: Rng;
  /** Set to what the case feeds the parser: shown when the case fails. */
  input: unknown;
}

const totals = { cases: 0, parsers: 0 };
/** Cases run so far, for the summary line. */
export function fuzzTotals(): { cases: number; parsers: number } {
  return { ...totals };
}

function failure(name: string, i: number, c: FuzzCase, e: unknown): Error {
  const shown = typeof c.input === 'string' ? c.input : JSON.stringify(c.input);
  const message = (e as Error)?.message ?? String(e);
  return new Error(
    `fuzz '${name}' case ${i} failed (FUZZ_SEED=${BASE_SEED}, seed ${seedOf(name)}): ${message}\ninput: ${String(shown).slice(0, 600)}`,
    { cause: e },
  );
}

function caseRng(name: string, i: number): Rng {
  return new Rng(seedOf(name) + Math.imul(i + 1, 0x9e3779b1));
}

/** Runs `count` (× FUZZ_SCALE) cases of a synchronous check, each with its own seeded Rng. Returns the number run. */
export function fuzz(name: string, count: number, check: (c: FuzzCase) => void): number {
  const n = count * FUZZ_SCALE;
  totals.parsers++;
  for (let i = 0; i < n; i++) {
    const c: FuzzCase = { rng: caseRng(name, i), input: undefined };
    const start = performance.now();
    try {
      check(c);
    } catch (e) {
      throw failure(name, i, c, e);
    }
    const ms = performance.now() - start;
    if (ms > HANG_MS) throw failure(name, i, c, new Error(`took ${Math.round(ms)} ms: a hang or catastrophic backtracking`));
  }
  totals.cases += n;
  return n;
}

/**
 * The same for a check that awaits. A case that has not settled within
 * `hangMs` fails as a hang, named by its seed and input (over loopback HTTP,
 * give more than the request timeouts that bound it).
 */
export async function fuzzAsync(name: string, count: number, check: (c: FuzzCase) => Promise<void>, hangMs = HANG_MS): Promise<number> {
  const n = count * FUZZ_SCALE;
  totals.parsers++;
  for (let i = 0; i < n; i++) {
    const c: FuzzCase = { rng: caseRng(name, i), input: undefined };
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`did not settle within ${hangMs} ms: a hang`)), hangMs);
    });
    try {
      await Promise.race([check(c), hang]);
    } catch (e) {
      throw failure(name, i, c, e);
    } finally {
      clearTimeout(timer);
    }
  }
  totals.cases += n;
  return n;
}

// ---- Values ----

/** Keys that trip code treating parsed JSON as a plain object. */
const NASTY_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'toJSON', 'length', '0', ''];

/** Long, repetitive strings that make naive regular expressions backtrack. Made once; at most 300,000 characters. */
let longStrings: string[] | undefined;
function longPool(rng: Rng): string[] {
  longStrings ??= [
    'eyJ'.repeat(100_000),
    'eyJa.'.repeat(60_000),
    'a'.repeat(300_000),
    `${' '.repeat(100_000)}x`,
    '9'.repeat(100_000),
    '\t'.repeat(50_000),
    '%'.repeat(50_000),
    'AADSTS'.repeat(40_000),
    'a="'.repeat(50_000),
    `${'*a'.repeat(40)}!`,
    `${'a*'.repeat(40)}b`,
    '/..'.repeat(20_000),
    rng.b64url(200_000),
    rng.bytes(100_000).toString('latin1'),
  ];
  return longStrings;
}

/** Longest header value a Node HTTP client accepts (undici's and node's maxHeaderSize, 16 KiB). */
export const MAX_HEADER = 16 * 1024;

const UNICODE = ['\u0000', '\u0007', '\u001b[31m', '\r\n', '\n##vso[task.setvariable variable=x]y', '\u2028', '\u200b', '\u202e', '\ufeff', '\ud800', '\udfff', '😀', 'é', 'ß', '中文', '\\', '"', "'", '<script>', '%00', '%0d%0a'];
const NUMBERISH = ['0', '-1', '1e400', '-1e400', '1.5', '0x10', ' 12 ', '99999999999999999999999', 'NaN', 'Infinity', '1767225600', '1767225600000', '3599', '-3599', '1e3', '00012', '١٢٣'];
const DATEISH = [
  '1/16/2030 5:24:12 AM +00:00',
  '06/20/2030 02:57:58 +00:00',
  '2/30/2030 1:00:00 PM +00:00',
  '13/01/2030 01:00:00',
  '1/1/0001 12:00:00 AM +00:00',
  '1/1/0099 12:00:00 AM +00:00',
  '12/31/9999 11:59:59 PM -14:00',
  '1/16/2030 13:24:12 PM',
  '1/16/2030 5:24:12 AM +99:99',
  'Wed, 21 Oct 2015 07:28:00 GMT',
  '2030-01-16T05:24:12Z',
];
const URLISH = [
  'https://management.azure.com/',
  'https://kv.vault.azure.net/',
  'http://127.0.0.1:1/x',
  'https://evil.example.com/subscriptions?x=1',
  '//evil.example.com/x',
  '/relative?page=2',
  'javascript:alert(1)',
  'http://[::1',
  'https://exa mple.com/',
  'https://user:pass@host/',
  'file:///etc/passwd',
  'https://vault.azure.net',
  'api://app',
];

export function randomString(rng: Rng, token: FakeToken): string {
  switch (rng.int(12)) {
    case 0:
      return '';
    case 1:
      return rng.b64url(1 + rng.int(12));
    case 2: {
      let s = '';
      for (let i = rng.int(8); i >= 0; i--) s += rng.chance(0.5) ? rng.pick(UNICODE) : String.fromCharCode(rng.int(0x10000));
      return s;
    }
    case 3:
      return rng.pick(NUMBERISH);
    case 4:
      return rng.pick(DATEISH);
    case 5:
      return rng.pick(URLISH);
    case 6:
      return rng.pick([token.jwt, `Bearer ${token.jwt}`, `token ${token.jwt} expired`, `access_token=${token.jwt}`]);
    case 7:
      return rng.pick(longPool(rng));
    case 8:
      return rng.pick(NASTY_KEYS);
    case 9:
      return rng.bytes(rng.int(40)).toString('utf8');
    case 10:
      return rng.pick(['Identity not found', 'Multiple user assigned identities exist', 'AADSTS700016: Application not found', 'AADSTS500011', 'invalid_resource', 'ForbiddenByRbac', 'AuthorizationFailed']);
    default:
      return rng.b64url(20 + rng.int(200));
  }
}

function randomNumber(rng: Rng): number {
  return rng.pick([0, -0, 1, -1, 3599, 1767225600, 1767225600000, 2 ** 53 + 1, 1e308, -1e308, 5e-324, 0.5, -86400, 1e11, 8.64e15, rng.next() * 1e12 - 5e11]);
}

/** Any JSON value, at most `depth` levels deep. */
export function randomJson(rng: Rng, token: FakeToken, depth = 3): unknown {
  const k = rng.int(depth > 0 ? 7 : 4);
  switch (k) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return randomNumber(rng);
    case 3:
      return randomString(rng, token);
    case 4:
    case 5: {
      const a: unknown[] = [];
      for (let i = rng.int(5); i > 0; i--) a.push(randomJson(rng, token, depth - 1));
      return a;
    }
    default: {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(5); i > 0; i--) setOwn(o, rng.chance(0.3) ? rng.pick(NASTY_KEYS) : randomString(rng, token).slice(0, 40), randomJson(rng, token, depth - 1));
      return o;
    }
  }
}

/** Sets a property as JSON.parse would: '__proto__' as an own property, not the prototype. */
function setOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

const isContainer = (v: unknown): v is Record<string, unknown> | unknown[] => v !== null && typeof v === 'object';

/** A copy of `value` with one structural change somewhere: a field removed, retyped, renamed, added or wrapped. */
export function mutateValue(value: unknown, rng: Rng, token: FakeToken): unknown {
  const copy = JSON.parse(JSON.stringify(value)) as unknown;
  // Pick a container along a random path.
  let parent: unknown = copy;
  for (let d = 0; d < 4 && isContainer(parent); d++) {
    const keys = Object.keys(parent);
    const child = keys.length ? (parent as Record<string, unknown>)[rng.pick(keys)] : undefined;
    if (!isContainer(child) || rng.chance(0.4)) break;
    parent = child;
  }
  if (!isContainer(parent)) return randomJson(rng, token);
  const o = parent as Record<string, unknown>;
  const keys = Object.keys(o);
  const key = keys.length ? rng.pick(keys) : '0';
  switch (rng.int(8)) {
    case 0:
      if (Array.isArray(o)) o.splice(Number(key), 1);
      else delete o[key];
      break;
    case 1: {
      // Renamed (an array is reordered instead).
      if (Array.isArray(o)) o.reverse();
      else {
        const v = o[key];
        delete o[key];
        setOwn(o, rng.chance(0.3) ? rng.pick(NASTY_KEYS) : randomString(rng, token).slice(0, 30), v);
      }
      break;
    }
    case 2:
      if (Array.isArray(o)) o.push(randomJson(rng, token));
      else setOwn(o, rng.pick(NASTY_KEYS), randomJson(rng, token));
      break;
    case 3:
      setOwn(o, key, rng.pick([[o[key]], { value: o[key] }, [], {}]));
      break;
    default:
      setOwn(o, key, rng.chance(0.5) ? randomJson(rng, token, 2) : rng.pick([null, 0, -1, 1e308, true, [], {}, '', randomString(rng, token)]));
  }
  return copy;
}

/** Text-level damage: truncation, flipped or inserted bytes, cut or repeated ranges, the token spliced in. */
export function mutateText(text: string, rng: Rng, token: FakeToken): string {
  const at = () => rng.int(text.length + 1);
  switch (rng.int(7)) {
    case 0:
      return text.slice(0, at());
    case 1: {
      const b = Buffer.from(text, 'utf8');
      for (let i = 1 + rng.int(4); i > 0 && b.length; i--) b[rng.int(b.length)] = rng.int(256);
      return b.toString(rng.chance(0.5) ? 'utf8' : 'latin1');
    }
    case 2: {
      const i = at();
      return text.slice(0, i) + rng.pick(['"', '{', '}', '[', ']', ',', ':', '\\', '\u0000', '\n', '\\u', 'null', '1e999']) + text.slice(i);
    }
    case 3: {
      const [a, b] = [at(), at()].sort((x, y) => x - y);
      return text.slice(0, a) + text.slice(b);
    }
    case 4: {
      const [a, b] = [at(), at()].sort((x, y) => x - y);
      return text.slice(0, b) + text.slice(a, b) + text.slice(b);
    }
    case 5: {
      const i = at();
      return text.slice(0, i) + rng.pick([token.jwt, randomString(rng, token)]) + text.slice(i);
    }
    default: {
      const n = 1000 + rng.int(50_000);
      return `{"a":${'['.repeat(n)}${']'.repeat(n)},"b":${text || 'null'}}`;
    }
  }
}

const NOT_JSON = [
  '',
  ' ',
  'null',
  '[]',
  '"access_token"',
  '<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in</body></html>',
  'Service Unavailable',
  'Bad Request',
  '{',
  '}{',
  '\u0000\u0000',
  'access_token=abc&expires_in=3599',
];

/**
 * A body derived from valid examples: mostly one to four structural
 * mutations of one of them, else text damage, random JSON, random bytes or
 * something that is not JSON at all.
 */
export function fuzzBody(rng: Rng, seeds: readonly unknown[], token: FakeToken): string {
  const roll = rng.next();
  if (roll < 0.45) {
    let v = rng.pick(seeds);
    for (let i = 1 + rng.int(4); i > 0; i--) v = mutateValue(v, rng, token);
    return JSON.stringify(v) ?? 'null';
  }
  if (roll < 0.55) return JSON.stringify(rng.pick(seeds));
  if (roll < 0.75) return mutateText(JSON.stringify(rng.pick(seeds)), rng, token);
  if (roll < 0.85) return JSON.stringify(randomJson(rng, token, 4)) ?? 'null';
  if (roll < 0.92) return rng.bytes(rng.int(300)).toString(rng.chance(0.5) ? 'utf8' : 'latin1');
  return rng.chance(0.5) ? rng.pick(NOT_JSON) : randomString(rng, token);
}

/** A parsed object from fuzzBody, as a parser that receives JSON gets it (non-objects and non-JSON are skipped by the caller). */
export function fuzzObject(rng: Rng, seeds: readonly object[], token: FakeToken): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(fuzzBody(rng, seeds, token)) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A header value: a mutated example, or random text, no longer than an HTTP client accepts. */
export function fuzzHeader(rng: Rng, seeds: readonly string[], token: FakeToken): string {
  const roll = rng.next();
  const seed = rng.pick(seeds);
  const value =
    roll < 0.15 ? seed : roll < 0.7 ? mutateText(seed, rng, token) : roll < 0.85 ? `${seed}${randomString(rng, token)}` : randomString(rng, token);
  return value.slice(0, MAX_HEADER);
}
