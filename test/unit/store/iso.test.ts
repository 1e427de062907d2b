// iso() is the time format of every report and who-saw answer: it must write exactly what
// Date.prototype.toISOString writes, for every time, while being cheaper for the usual ones.
import { describe, expect, it } from 'vitest';
import { iso } from '../../../services/store/answers.js';

const toIso = (ms: number) => new Date(ms).toISOString();

describe('iso', () => {
  it('writes what toISOString writes at the edges of days, years and its fast range', () => {
    const edges = [0, 1, 999, 1_000, 59_999, 3_599_999, 86_399_999, 86_400_000, Date.parse('2012-02-29T23:59:59.999Z'),
      Date.parse('2012-03-01T00:00:00Z'), Date.parse('2000-01-01T00:00:00Z'), 253_402_300_799_999, 253_402_300_800_000,
      -1, -86_400_001, 8.64e15, -8.64e15];
    for (const ms of edges) expect(iso(ms)).toBe(toIso(ms));
  });

  it('writes what toISOString writes for random times across 1970-9999 and around 2012', () => {
    let seed = 12345;
    const random = () => { seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31; return seed / 2 ** 31; };
    for (let i = 0; i < 20_000; i++) {
      const ms = i % 2 === 0 ? Math.floor(random() * 253_402_300_800_000) : Date.parse('2012-01-01T00:00:00Z') + Math.floor(random() * 31 * 86_400_000);
      expect(iso(ms)).toBe(toIso(ms));
    }
  });

  it('gives fractional milliseconds to toISOString, and refuses what it refuses', () => {
    expect(iso(1_325_376_000_000.5)).toBe(toIso(1_325_376_000_000.5));
    expect(() => iso(Number.NaN)).toThrow(RangeError);
  });
});
