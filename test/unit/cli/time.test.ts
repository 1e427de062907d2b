import { describe, expect, it } from 'vitest';
import { LeakscopeError } from '../../../services/core/errors.js';
import { parseRequiredWindow, parseTime, parseWindow } from '../../../services/cli/time.js';

function refusal(fn: () => unknown): LeakscopeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof LeakscopeError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('parseTime', () => {
  it.each([
    ['2012-01-10', '2012-01-10T00:00:00.000Z'],
    ['2012-01-25T14:00Z', '2012-01-25T14:00:00.000Z'],
    ['2012-01-25T14:00:00Z', '2012-01-25T14:00:00.000Z'],
    ['2012-01-25 14:00:00z', '2012-01-25T14:00:00.000Z'],
    ['2012-01-25T14:00:00.5Z', '2012-01-25T14:00:00.500Z'],
    ['2012-01-25T14:00:00.123456789Z', '2012-01-25T14:00:00.123Z'],
    ['2012-01-25T15:00:00+01:00', '2012-01-25T14:00:00.000Z'],
    ['2012-01-25T09:30:00-0430', '2012-01-25T14:00:00.000Z'],
    ['2012-02-29', '2012-02-29T00:00:00.000Z'],
    ['2012-01-01T00:30+01:00', '2011-12-31T23:30:00.000Z'],
  ])('reads %s as %s', (value, iso) => {
    expect(new Date(parseTime(value, '--from')).toISOString()).toBe(iso);
  });

  it.each([
    ['', 'not a time'],
    ['yesterday', 'not a time'],
    ['1326153600000', 'not a time'],
    ['2012-1-10', 'not a time'],
    ['2012-01-10T14:00', 'a time of day needs a zone'],
    ['2012-01-10T14:00:00', 'a time of day needs a zone'],
    ['2012-13-01', 'month 13 does not exist'],
    ['2011-02-29', 'day 29 does not exist in 2011-02'],
    ['2012-01-00', 'day 00 does not exist'],
    ['2012-01-10T24:00Z', 'out of range'],
    ['2012-01-10T12:60Z', 'out of range'],
    ['2012-01-10T12:00:60Z', 'out of range'],
    ['2012-01-10T12:00+25:00', 'zone offset +25:00 out of range'],
    ['2012-01-10T12:00Zjunk', 'not a time'],
  ])('refuses %j with TIME_INVALID naming the flag and value', (value, why) => {
    const error = refusal(() => parseTime(value, '--to'));
    expect(error.code).toBe('TIME_INVALID');
    expect(error.message).toContain(`--to ${JSON.stringify(value)}: `);
    expect(error.message).toContain(why);
  });
});

describe('windows', () => {
  it('leaves an absent end open', () => {
    expect(parseWindow({})).toEqual({ from: null, to: null });
    expect(parseWindow({ to: '2012-01-11' })).toEqual({ from: null, to: Date.parse('2012-01-11T00:00:00Z') });
  });

  it('refuses from equal to or after to, naming both', () => {
    for (const [from, to] of [['2012-01-11', '2012-01-10'], ['2012-01-10', '2012-01-10T00:00Z']]) {
      const error = refusal(() => parseWindow({ from, to }));
      expect(error.code).toBe('TIME_INVALID');
      expect(error.message).toContain(`--from "${from}" is not before --to "${to}"`);
    }
  });

  it('requires both ends for report and export-affected', () => {
    const error = refusal(() => parseRequiredWindow({}, 'report'));
    expect(error.code).toBe('USAGE');
    expect(error.message).toContain('report needs --from TIME and --to TIME');
    expect(parseRequiredWindow({ from: '2012-01-10', to: '2012-01-25T14:00Z' }, 'report'))
      .toEqual({ from: Date.parse('2012-01-10T00:00:00Z'), to: Date.parse('2012-01-25T14:00:00Z') });
  });
});

describe('parseTime reads years 0–99 as those years (the log parser\'s time reading)', () => {
  const year = (y: number, month = 0, day = 1, h = 0, m = 0): number => {
    const d = new Date(Date.UTC(2000, month, day, h, m));
    d.setUTCFullYear(y);
    return d.getTime();
  };
  it.each([
    ['0000-01-01', year(0)],
    ['0099-12-31', year(99, 11, 31)],
    ['0000-02-29', year(0, 1, 29)], // year 0 is a leap year in the proleptic Gregorian calendar
    ['0012-06-01T10:30Z', year(12, 5, 1, 10, 30)],
    ['0001-01-01T01:00+01:00', year(1)],
  ])('%s', (text, ms) => {
    expect(parseTime(text, '--from')).toBe(ms);
    expect(new Date(parseTime(text, '--from')).getUTCFullYear()).toBeLessThan(100);
  });

  it('still refuses a day that does not exist in a two-digit year', () => {
    expect(() => parseTime('0001-02-29', '--from')).toThrow(/day 29 does not exist in 0001-02/);
  });
});
