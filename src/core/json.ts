/**
 * Reading a service's JSON answer field by field. A field of another type
 * than documented reads as absent (undefined, an empty list or object), so a
 * broken or hostile answer can leave a value out, never throw a TypeError.
 */
export type Json = Record<string, unknown>;

export function isJsonObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The object, or an empty one. */
export function asObject(v: unknown): Json {
  return isJsonObject(v) ? v : {};
}

export function asString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function asBoolean(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}

/** A finite number, or undefined. */
export function asNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The list, or an empty one. */
export function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The strings of a list (anything else in it left out). */
export function asStrings(v: unknown): string[] {
  return asList(v).filter((x): x is string => typeof x === 'string');
}
