// Reads the `--from` / `--to` flags of the query commands into a window [from, to) in epoch ms.
// Accepted: ISO-8601 with a zone (`2012-01-10T09:30:00Z`, `2012-01-25T14:00+00:00`, with an
// optional fraction of a second) or a calendar date alone (`2012-01-10`), which means UTC midnight.
// A time of day without a zone is refused: it is ambiguous, and a breach window that is off by
// the investigator's time zone silently leaves out an hour of victims.
import { LeakscopeError } from '../core/errors.js';
import { parseIsoDate, parseIsoDateTime } from '../core/parse/time.js';
import type { Window } from '../store/types.js';

const EXAMPLE = 'expected ISO-8601 with a zone, e.g. 2012-01-10T09:30:00Z or 2012-01-25T14:00+00:00, or a date such as 2012-01-10 for UTC midnight';

// date [T time [zone]]; the zone is checked separately so a zone-less time gets its own message.
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;

function refuse(flag: string, value: string, why: string): LeakscopeError {
  return new LeakscopeError('TIME_INVALID', `${flag} ${JSON.stringify(value)}: ${why}`);
}

/**
 * One time from the command line, as epoch ms. Precision is the millisecond: further digits
 * of a fraction are dropped. `flag` names the flag in the error (`--from`).
 */
export function parseTime(value: string, flag: string): number {
  const text = value.trim();
  const m = ISO.exec(text);
  if (!m) throw refuse(flag, value, `not a time (${EXAMPLE})`);
  const [, y, mo, d, h, mi, s, , zulu, sign, oh, om] = m;
  const month = Number(mo);
  if (month < 1 || month > 12) throw refuse(flag, value, `month ${mo} does not exist (${EXAMPLE})`);
  // The log parsers' own reading of dates and times (core/parse/time.ts), so that a window
  // means what a logged time means: years 0–99 are those years, not 1900–1999.
  const midnight = parseIsoDate(text.slice(0, 10));
  if (midnight === null) throw refuse(flag, value, `day ${d} does not exist in ${y}-${mo} (${EXAMPLE})`);
  if (h === undefined) return midnight;

  if (zulu === undefined && sign === undefined) {
    throw refuse(flag, value, `a time of day needs a zone: add Z for UTC or an offset such as +01:00 (${EXAMPLE})`);
  }
  if (Number(h) > 23 || Number(mi) > 59 || (s !== undefined && Number(s) > 59)) {
    throw refuse(flag, value, `hour, minute or second out of range (${EXAMPLE})`);
  }
  if (sign !== undefined && (Number(oh) > 23 || Number(om) > 59)) {
    throw refuse(flag, value, `zone offset ${sign}${oh}:${om} out of range (${EXAMPLE})`);
  }
  const ms = parseIsoDateTime(text);
  if (ms === null) throw refuse(flag, value, `out of range (${EXAMPLE})`);
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
