// Reads the `--from` / `--to` flags of the query commands into a window [from, to) in epoch ms.
// Accepted: ISO-8601 with a zone (`2012-01-10T09:30:00Z`, `2012-01-25T14:00+00:00`, with an
// optional fraction of a second) or a calendar date alone (`2012-01-10`), which means UTC midnight.
// A time of day without a zone is refused: it is ambiguous, and a breach window that is off by
// the investigator's time zone silently leaves out an hour of victims.
import { LeakscopeError } from '../core/errors.js';
import type { Window } from '../store/types.js';

const EXAMPLE = 'expected ISO-8601 with a zone, e.g. 2012-01-10T09:30:00Z or 2012-01-25T14:00+00:00, or a date such as 2012-01-10 for UTC midnight';

// date [T time [zone]]; the zone is checked separately so a zone-less time gets its own message.
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function refuse(flag: string, value: string, why: string): LeakscopeError {
  return new LeakscopeError('TIME_INVALID', `${flag} ${JSON.stringify(value)}: ${why}`);
}

/**
 * One time from the command line, as epoch ms. Precision is the millisecond: further digits
 * of a fraction are dropped. `flag` names the flag in the error (`--from`).
 */
export function parseTime(value: string, flag: string): number {
  const m = ISO.exec(value.trim());
  if (!m) throw refuse(flag, value, `not a time (${EXAMPLE})`);
  const [, y, mo, d, h, mi, s, frac, zulu, sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12) throw refuse(flag, value, `month ${mo} does not exist (${EXAMPLE})`);
  if (day < 1 || day > daysInMonth(year, month)) throw refuse(flag, value, `day ${d} does not exist in ${y}-${mo} (${EXAMPLE})`);
  if (h === undefined) return Date.UTC(year, month - 1, day);

  if (zulu === undefined && sign === undefined) {
    throw refuse(flag, value, `a time of day needs a zone: add Z for UTC or an offset such as +01:00 (${EXAMPLE})`);
  }
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (hour > 23 || minute > 59 || second > 59) throw refuse(flag, value, `hour, minute or second out of range (${EXAMPLE})`);
  const millis = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (sign !== undefined) {
    const offsetHours = Number(oh);
    const offsetMins = Number(om);
    if (offsetHours > 23 || offsetMins > 59) throw refuse(flag, value, `zone offset ${sign}${oh}:${om} out of range (${EXAMPLE})`);
    offsetMinutes = (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  if (!Number.isFinite(ms)) throw refuse(flag, value, `out of range (${EXAMPLE})`);
  return ms;
}

export interface WindowFlags {
  from?: string | undefined;
  to?: string | undefined;
}

/** A window with both ends; `command` names the caller in the usage error when one is missing. */
export function parseRequiredWindow(flags: WindowFlags, command: string): { from: number; to: number } {
  const missing = (['from', 'to'] as const).filter((k) => flags[k] === undefined).map((k) => `--${k} TIME`);
  if (missing.length > 0) {
    throw new LeakscopeError('USAGE', `${command} needs ${missing.join(' and ')} (a window is [from, to); ${EXAMPLE}). See: leakscope ${command} --help`);
  }
  const window = parseWindow(flags);
  return { from: window.from!, to: window.to! };
}

/** A window where either end may be open (null). from must be before to when both are given. */
export function parseWindow(flags: WindowFlags): Window {
  const from = flags.from === undefined ? null : parseTime(flags.from, '--from');
  const to = flags.to === undefined ? null : parseTime(flags.to, '--to');
  if (from !== null && to !== null && from >= to) {
    throw new LeakscopeError(
      'TIME_INVALID',
      `--from ${JSON.stringify(flags.from)} is not before --to ${JSON.stringify(flags.to)}: a window is [from, to), so from must be earlier than to`,
    );
  }
  return { from, to };
}
