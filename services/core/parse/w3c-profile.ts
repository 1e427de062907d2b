// What the W3C parser adds for log profiles and other writers' standard fields: a profile's
// field mapping, the actions that mean "the gateway never forwarded this request", and
// tab-separated lines (CloudFront). Kept apart from w3c.ts so that file stays the format's
// plain reading.
import type { ParseResult } from '../types.js';
import type { LogProfile } from './profile.js';

/** What a line whose request was never forwarded becomes: counted, never judged. */
export const NOT_FORWARDED: ParseResult = { ok: 'not_forwarded' };

/**
 * Standard W3C fields whose values say the request was not forwarded, from the writer's own
 * documentation: ProxySG's `s-action` TCP_DENIED (denied by policy) and `sc-filter-result`
 * DENIED. Only values that certainly mean "never sent upstream" are listed: a wrong entry
 * here would hide a disclosure, a missing one only counts a denied request as a disclosure.
 */
export const W3C_NOT_FORWARDED: ReadonlyMap<string, readonly string[]> = new Map([
  ['s-action', ['TCP_DENIED']],
  ['sc-filter-result', ['DENIED']],
]);

/** True when the value (any case) is listed, or its part before `/` is (Squid's `TCP_DENIED/403`). */
export function isNotForwarded(value: string, values: ReadonlySet<string>): boolean {
  const upper = value.toUpperCase();
  if (values.has(upper)) return true;
  const slash = upper.indexOf('/');
  return slash > 0 && values.has(upper.slice(0, slash));
}

/**
 * IIS-style `+` for a space. A leading `+` stays: a header value cannot start with a space
 * (HTTP strips it), so there it was a plus (`+44+7700+900123` → `+44 7700 900123`).
 */
export function plusToSpace(value: string): string {
  if (!value.includes('+', 1)) return value;
  return value.charCodeAt(0) === 43 ? '+' + value.slice(1).replace(/\+/g, ' ') : value.replace(/\+/g, ' ');
}

/** The profile's target for a declared field (lower-case), or null when the profile says nothing. */
export function targetOfField(profile: LogProfile | null, lowerName: string): string | null {
  if (profile === null) return null;
  return profile.fields[lowerName] ?? null;
}

/**
 * Splits a tab-separated line: every tab ends a value (two tabs make an empty one, absent),
 * spaces belong to the value, `-` alone is absent. Fills `out`; returns the count.
 */
export function splitTabbed(text: string, out: (string | null)[]): number {
  let count = 0;
  let start = 0;
  for (;;) {
    const tab = text.indexOf('\t', start);
    const end = tab < 0 ? text.length : tab;
    const value = end - start === 1 && text.charCodeAt(start) === 45 /* - */ ? null : end === start ? null : text.slice(start, end);
    if (count < out.length) out[count] = value;
    count++;
    if (tab < 0) return count;
    start = tab + 1;
  }
}
