import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findNumber, firstNumberIn, normalizeNumber } from '../../../../services/core/detect/index.js';

describe('normalizeNumber', () => {
  it.each([
    ['447700900123', 'GB', '+447700900123'],
    ['+447700900123', 'GB', '+447700900123'],
    ['00447700900123', 'GB', '+447700900123'],
    ['07700900123', 'GB', '+447700900123'],
    ['+44 7700 900123', 'GB', '+447700900123'],
    ['+44 (0)7700-900-123', 'GB', '+447700900123'],
    ['358505476123', 'GB', '+358505476123'],
    ['0505476123', 'FI', '+358505476123'],
  ])('reads %s (region %s) as %s', (raw, region, e164) => {
    expect(normalizeNumber(raw, region)?.e164).toBe(e164);
  });

  it.each(['', 'abc', '12', '1234567890123456789', '+44', 'tok-447700900123'])('refuses %j', (raw) => {
    expect(normalizeNumber(raw, 'GB')).toBeNull();
  });
});

describe('findNumber', () => {
  const n = normalizeNumber('447700900123', 'GB')!;
  it.each([
    ['447700900123', true],
    ['cli=447700900123;', true],
    ['+44-7700-900-123', true],
    ['(0)7700 900 123', true],
    ['07700.900.123', true],
    ['GPRS,,447700900123,unsecured', true],
    ['99447700900123991', false],
    ['4477009001234', false],
    ['44 7700 900 12', false],
    ['447700900123 200', true],
    ['id 1326187862 ts 447700900124', false],
    ['4 4 7 7 0 0 9 0 0 1 2 3', true],
    ['4477   00900123', false],
    ['44   7700900123', true], // the national number alone still counts
  ])('in %j: %s', (text, expected) => {
    expect(findNumber(text, n) !== null).toBe(expected);
  });

  it('gives the exact range of each occurrence', () => {
    expect(findNumber('a=447700900123&b=07700 900123', n)).toEqual([[2, 14], [17, 29]]);
  });

  it('finds a number written with any separators, and never one glued to more digits', () => {
    fc.assert(fc.property(
      fc.array(fc.constantFrom('', ' ', '-', '.'), { minLength: 11, maxLength: 11 }),
      fc.constantFrom('447700900123', '07700900123', '7700900123', '00447700900123'),
      fc.string({ maxLength: 8 }).filter((s) => !/\d$/.test(s)),
      fc.string({ maxLength: 8 }).filter((s) => !/^\d/.test(s)),
      fc.integer({ min: 1, max: 9 }),
      (seps, spelling, before, after, digit) => {
        let written = '';
        for (let i = 0; i < spelling.length; i++) written += spelling[i] + (i < spelling.length - 1 ? seps[i % seps.length]! : '');
        expect(findNumber(`${before}${written}${after}`, n)).not.toBeNull();
        expect(findNumber(`${before}${digit}${spelling}${digit}${after}`, n)).toBeNull();
      },
    ));
  });
});

describe('firstNumberIn', () => {
  it.each([
    ['GPRS,,358505476123,unsecured', '+358505476123'],
    ['+44 7700 900123', '+447700900123'],
    ['tel:07700900123', '+447700900123'],
    ['dGVzdA==', null],
  ])('reads %j as %s', (value, e164) => {
    expect(firstNumberIn(value, 'GB')?.e164 ?? null).toBe(e164);
  });
});
