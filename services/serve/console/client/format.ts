// How the console writes times, counts and verdicts. Every time is shown in UTC, as the
// reports and the CLI give it: an investigation window must not shift with the browser's zone.
import type { Verdict } from './types.js';

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** `2012-01-10 09:31:02 UTC` (seconds only when not zero). */
export function time(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const text = d.toISOString();
  const seconds = text.slice(17, 19) === '00' && text.slice(20, 23) === '000' ? '' : text.slice(16, 19);
  return `${text.slice(0, 10)} ${text.slice(11, 16)}${seconds} UTC`;
}

export function day(iso: string): string {
  return new Date(iso).toISOString().slice(0, 10);
}

export const VERDICT_LABEL: Record<Verdict, string> = {
  unauthorized_recipient: 'unauthorised recipient',
  identifier_not_allowed: 'identifier not allowed',
  partner_inactive: 'partner inactive',
  authorized: 'authorised',
};

/** Violations first, worst first. */
export const VERDICT_ORDER: readonly Verdict[] = ['unauthorized_recipient', 'identifier_not_allowed', 'partner_inactive', 'authorized'];

export function isVerdict(value: string): value is Verdict {
  return (VERDICT_ORDER as readonly string[]).includes(value);
}

/**
 * Time fields are text in UTC, written as the CLI takes them (`2012-01-10`, `2012-01-10 09:30`,
 * `2012-01-10T09:30:15Z`): a browser's date-time control would show the user's locale
 * (12-hour clocks, day/month order), which is how windows end up off by hours.
 */
export function toInput(iso: string): string {
  const text = new Date(iso).toISOString();
  return text.slice(11, 19) === '00:00:00' ? text.slice(0, 10) : `${text.slice(0, 10)} ${text.slice(11, text.slice(17, 19) === '00' ? 16 : 19)}`;
}

export const TIME_PLACEHOLDER = 'YYYY-MM-DD [HH:MM]';

/** ISO-8601 of a time field, or null when it is not a date with an optional UTC time of day. */
export function fromInput(value: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?\s*(?:Z|UTC)?$/i.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, hh = '00', mm = '00', ss = '00'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(hh), Number(mm), Number(ss));
  const back = new Date(ms);
  // Refuse what Date would roll over (2012-02-30, 25:00) instead of silently moving it.
  if (back.getUTCDate() !== Number(d) || back.getUTCHours() !== Number(hh) || back.getUTCMinutes() !== Number(mm) || Number(ss) > 59) return null;
  return back.toISOString();
}

/** A short, safe file name part from a window: `2012-01-10T0000Z`. */
export function fileStamp(iso: string): string {
  return new Date(iso).toISOString().slice(0, 16).replace(':', '') + 'Z';
}
