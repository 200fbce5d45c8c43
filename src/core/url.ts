/**
 * The one set of rules for a URL that comes from outside (an environment
 * variable, the armEndpoint input): it parses, its scheme is allowed, it
 * carries no user name or password (which would move the request to another
 * host, or put a credential in a message), and it is on one line (the WHATWG
 * parser drops tabs and line breaks silently: refused rather than sending a
 * changed URL). A base URL, which paths are appended to as text, also has no
 * query or fragment, which would swallow the path.
 */

export type UrlScheme =
  /** http or https. */
  | 'http(s)'
  | 'https'
  /** https, or plain http to a loopback address (a bearer token or a federated token may go there). */
  | 'httpsOrLoopback';

export interface UrlRules {
  scheme?: UrlScheme;
  /** Paths are appended to it: no '?' or '#' anywhere. */
  base?: boolean;
}

/** What is wrong with a URL: not a usable URL at all, a scheme the rules do not allow, or a query or fragment in a base URL. */
export type UrlProblem = 'malformed' | 'scheme' | 'notBase';

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Loopback: 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Whether the URL's scheme is allowed (for httpsOrLoopback: http only to a loopback host). */
export function schemeAllowed(url: URL, scheme: UrlScheme): boolean {
  if (url.protocol === 'https:') return true;
  if (url.protocol !== 'http:') return false;
  return scheme === 'http(s)' || (scheme === 'httpsOrLoopback' && isLoopbackHost(url.hostname));
}

/** The URL in `raw` (trimmed) under the rules, or what is wrong with it. */
export function checkUrl(raw: string, rules: UrlRules = {}): URL | UrlProblem {
  const text = raw.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'malformed';
  }
  if (!/^https?:$/.test(url.protocol) || url.username || url.password || CONTROL.test(text)) return 'malformed';
  if (!schemeAllowed(url, rules.scheme ?? 'http(s)')) return 'scheme';
  if (rules.base && /[?#]/.test(text)) return 'notBase';
  return url;
}

