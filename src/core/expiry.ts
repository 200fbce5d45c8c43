/**
 * Token expiry as the identity endpoints send it. expires_on may be epoch
 * seconds (a number or a string of digits) or, on the 2017-09-01 App Service
 * protocol, a date string such as "1/16/2030 5:24:12 AM +00:00" or
 * "06/20/2030 02:57:58 +00:00" (month first, 12- or 24-hour clock, an offset).
 */
const DATE_FORM =
  /^(\d{1,2})\/(\d{1,2})\/(\d{4})\s+(\d{1,2}):(\d{2}):(\d{2})(?:\s*([AaPp][Mm]))?\s*(?:([+-])(\d{2}):?(\d{2})|Z|GMT|UTC)?$/;

/** The instant a token expires, or undefined if the value is not a form we know. */
export function parseExpiresOn(value: unknown): Date | undefined {
  if (typeof value === 'number') return fromEpoch(value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return fromEpoch(Number(text));
  const m = DATE_FORM.exec(text);
  if (!m) return undefined;
  const [, mo, d, y, hh, mi, ss, ampm, sign, oh, om] = m;
  let hour = Number(hh);
  if (ampm) {
    if (hour < 1 || hour > 12) return undefined;
    const pm = ampm.toLowerCase() === 'pm';
    hour = (hour % 12) + (pm ? 12 : 0);
  }
  const month = Number(mo);
  const day = Number(d);
  // Date.UTC reads years 0 to 99 as 1900 to 1999: no token expires before 1970 anyway.
  if (Number(y) < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || Number(mi) > 59 || Number(ss) > 59) return undefined;
  const offsetMin = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) : 0;
  const local = Date.UTC(Number(y), month - 1, day, hour, Number(mi), Number(ss));
  // Date.UTC rolls 2/30 over into March: a day the month does not have is malformed, not a later date.
  if (new Date(local).getUTCDate() !== day) return undefined;
  return new Date(local - offsetMin * 60_000);
}

/** Seconds from now, as in expires_in (a number, or a string of digits). */
export function parseExpiresIn(value: unknown, nowMs: number): Date | undefined {
  const seconds = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isFinite(seconds) || seconds < 0) return undefined;
  // Whole seconds, rounded down: the same precision as expires_on, and never later than the truth.
  const date = new Date(Math.floor(nowMs / 1000) * 1000 + seconds * 1000);
  // A number of seconds no date can hold is malformed (an Invalid Date would throw later, when it is printed).
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function fromEpoch(seconds: number): Date | undefined {
  // Milliseconds are not a form any endpoint uses; anything that large is malformed.
  if (!Number.isFinite(seconds) || seconds > 1e11) return undefined;
  // Not 1970 itself either (5e-324 seconds is a positive number, and 0 ms).
  const ms = Math.round(seconds * 1000);
  return ms > 0 ? new Date(ms) : undefined;
}

/** An epoch-seconds value (a claim's exp, a Key Vault attribute) as ISO 8601 UTC, or undefined when it is not a number or no date can hold it. */
export function isoFromEpochSeconds(seconds: unknown): string | undefined {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return undefined;
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
