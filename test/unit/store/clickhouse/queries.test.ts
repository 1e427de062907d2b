import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, reportSource, splitLevels, splitWindow, whoSawQuery, affectedQuery } from '../../../../services/store/clickhouse/queries.js';

const T0 = Date.parse('2012-01-10T09:00:00.000Z');

describe('splitWindow', () => {
  it('reads a window on bucket boundaries wholly from the rollup', () => {
    expect(splitWindow({ from: T0, to: T0 + 5 * HOUR_MS }, HOUR_MS)).toEqual({ whole: { from: T0, to: T0 + 5 * HOUR_MS }, edges: [] });
    expect(splitWindow({ from: null, to: null }, DAY_MS)).toEqual({ whole: { from: null, to: null }, edges: [] });
  });

  it('reads the partial buckets at either edge from raw rows', () => {
    expect(splitWindow({ from: T0 + 1, to: T0 + 2 * HOUR_MS + 5 }, HOUR_MS)).toEqual({
      whole: { from: T0 + HOUR_MS, to: T0 + 2 * HOUR_MS },
      edges: [{ from: T0 + 1, to: T0 + HOUR_MS }, { from: T0 + 2 * HOUR_MS, to: T0 + 2 * HOUR_MS + 5 }],
    });
    expect(splitWindow({ from: null, to: T0 + 5 }, HOUR_MS)).toEqual({ whole: { from: null, to: T0 }, edges: [{ from: T0, to: T0 + 5 }] });
  });

  it('reads a window inside one bucket wholly from raw rows, and an empty window from nothing', () => {
    expect(splitWindow({ from: T0 + 1, to: T0 + 2 }, HOUR_MS)).toEqual({ whole: null, edges: [{ from: T0 + 1, to: T0 + 2 }] });
    expect(splitWindow({ from: T0, to: T0 }, HOUR_MS)).toEqual({ whole: null, edges: [] });
  });

  it('covers every instant of the window exactly once', () => {
    const bound = fc.option(fc.integer({ min: 0, max: 10 * DAY_MS }), { nil: null });
    fc.assert(fc.property(bound, bound, fc.integer({ min: 0, max: 10 * DAY_MS }), fc.constantFrom(HOUR_MS, DAY_MS), (from, to, t, unit) => {
      const split = splitWindow({ from, to }, unit);
      const inside = (r: { from: number | null; to: number | null }) => (r.from === null || t >= r.from) && (r.to === null || t < r.to);
      const hits = (split.whole && inside(split.whole) ? 1 : 0) + split.edges.filter(inside).length;
      if (split.whole?.from != null && split.whole.from % unit !== 0) return false;
      if (split.whole?.to != null && split.whole.to % unit !== 0) return false;
      return hits === (inside({ from, to }) ? 1 : 0);
    }), { numRuns: 5000 });
  });
});

describe('splitLevels', () => {
  it('cuts a window into whole days, whole hours of the partial days, and raw edges', () => {
    const day0 = Date.parse('2012-01-10T00:00:00.000Z');
    expect(splitLevels({ from: day0 + 9 * HOUR_MS + 5, to: day0 + 2 * DAY_MS + 14 * HOUR_MS }, [DAY_MS, HOUR_MS])).toEqual([
      { unit: DAY_MS, ranges: [{ from: day0 + DAY_MS, to: day0 + 2 * DAY_MS }] },
      { unit: HOUR_MS, ranges: [{ from: day0 + 10 * HOUR_MS, to: day0 + DAY_MS }, { from: day0 + 2 * DAY_MS, to: day0 + 2 * DAY_MS + 14 * HOUR_MS }] },
      { unit: null, ranges: [{ from: day0 + 9 * HOUR_MS + 5, to: day0 + 10 * HOUR_MS }] },
    ]);
  });

  it('covers every instant of the window exactly once, each piece on its own boundaries', () => {
    const bound = fc.integer({ min: 0, max: 10 * DAY_MS });
    fc.assert(fc.property(bound, bound, bound, (a, b, t) => {
      const from = Math.min(a, b);
      const to = Math.max(a, b);
      const pieces = splitLevels({ from, to }, [DAY_MS, HOUR_MS]);
      let hits = 0;
      for (const { unit, ranges } of pieces) {
        for (const r of ranges) {
          if (unit !== null && (r.from! % unit !== 0 || r.to! % unit !== 0)) return false;
          if (t >= r.from! && t < r.to!) hits += 1;
        }
      }
      return hits === (t >= from && t < to ? 1 : 0);
    }), { numRuns: 5000 });
  });
});

describe('queries', () => {
  it('read the rollups only for whole buckets', () => {
    const aligned = reportSource('leakscope', { from: T0, to: T0 + HOUR_MS })!.text;
    expect(aligned).toContain('`leakscope`.`site_hourly`');
    const days = reportSource('leakscope', { from: T0 - 9 * HOUR_MS, to: T0 + 39 * HOUR_MS })!.text;
    expect(days).toContain('`leakscope`.`site_daily`');
    expect(days).not.toMatch(/site_hourly|violations_by_time|`disclosures`/);
    expect(aligned).not.toContain('violations_by_time');
    expect(aligned).not.toContain('`disclosures`');
    const ragged = reportSource('leakscope', { from: T0 + 1, to: T0 + HOUR_MS })!.text;
    expect(ragged).not.toContain('site_hourly');
    expect(reportSource('leakscope', { from: T0 - 9 * HOUR_MS, to: T0 + 39 * HOUR_MS }, undefined, [HOUR_MS])!.text).not.toContain('site_daily');
    expect(ragged).toContain('violations_by_time');
    expect(whoSawQuery('leakscope', 'a'.repeat(64), { from: null, to: null })!.text).not.toContain('`disclosures`');
    expect(affectedQuery('leakscope', { from: T0 - 9 * HOUR_MS, to: T0 + 15 * HOUR_MS })!.text).not.toMatch(/violations_by_time|`disclosures`/);
  });

  it('carry a hostile site or subscriber only as an escaped literal', () => {
    const q = reportSource('leakscope', { from: T0, to: T0 + HOUR_MS }, "x'); DROP TABLE y; --")!.text;
    expect(q).toContain("site = 'x\\'); DROP TABLE y; --'");
    expect(() => reportSource('bad-db', { from: T0, to: T0 + HOUR_MS })).toThrow(/not an identifier/);
  });
});
