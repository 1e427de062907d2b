import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildSnapshot, normalizeHost, parseDomainPattern, parseRegistry, patternMatchesHost,
} from '../../../../services/core/registry/index.js';

// Labels from a small alphabet so that generated hosts often share suffixes with the
// pattern (and so exercise near misses such as `xexample.com` against `*.example.com`).
const label = fc.stringMatching(/^[a-c0-9](?:[a-c0-9-]{0,3}[a-c0-9])?$/);
// The last label must not be numeric (that would be an IPv4 form); a fixed TLD-like label
// also keeps wildcards off public suffixes.
const name = fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => [...labels, 'zz'].join('.'));
const hostOf = (labels: string[], base: string) => [...labels, base].join('.');

function snapshotOf(pattern: string) {
  return buildSnapshot(parseRegistry(
    `version: "p"\nregion: GB\npartners:\n  - {id: p, name: P, domains: ["${pattern}"], identifiers: [x-msisdn]}\n`, 'p.yaml'));
}

describe('domain patterns, for random names', () => {
  it('`*.` + d matches exactly the hosts that have the strict suffix `.d`', () => {
    fc.assert(fc.property(name, fc.array(label, { maxLength: 4 }), name, (d, extra, other) => {
      const snap = snapshotOf(`*.${d}`);
      for (const host of [hostOf(extra, d), hostOf(extra, other), `x${d}`, d]) {
        const expected = host.endsWith(`.${d}`) && host.length > d.length + 1;
        expect(snap.matchHost(host).length > 0).toBe(expected);
        expect(patternMatchesHost(`*.${d}`, host)).toBe(expected);
      }
    }));
  });

  it('an exact pattern matches only its own name', () => {
    fc.assert(fc.property(name, fc.array(label, { maxLength: 3 }), name, (d, extra, other) => {
      const snap = snapshotOf(d);
      for (const host of [d, hostOf(extra, d), other, `x${d}`]) {
        expect(snap.matchHost(host).length > 0).toBe(host === d);
      }
    }));
  });

  it('parsing a normalised pattern gives it back unchanged', () => {
    fc.assert(fc.property(name, fc.boolean(), (d, wildcard) => {
      const pattern = wildcard ? `*.${d}` : d;
      expect(parseDomainPattern(pattern)).toMatchObject({ ok: true, value: { pattern } });
    }));
  });
});

describe('normalizeHost', () => {
  const anyHost = fc.oneof(
    fc.string(),
    fc.string({ unit: 'grapheme' }),
    name,
    name.map((n) => n.toUpperCase()),
    fc.tuple(name, fc.nat({ max: 65535 })).map(([n, port]) => `${n}:${port}`),
    fc.ipV4(),
    fc.ipV6().map((a) => `[${a}]`),
    fc.ipV6(),
    fc.webUrl().map((u) => new URL(u).host),
    fc.domain().map((d) => d.replace(/a/g, 'ä')),
  );

  it('is idempotent', () => {
    fc.assert(fc.property(anyHost, (host) => {
      const once = normalizeHost(host);
      if (once !== null) expect(normalizeHost(once)).toBe(once);
    }), { numRuns: 2000 });
  });

  it('gives an upper-case spelling the same answer as the lower-case one (slow path agrees with fast path)', () => {
    const ldh = fc.array(fc.stringMatching(/^[a-z0-9_-]{1,10}$/), { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
    fc.assert(fc.property(ldh, (host) => {
      expect(normalizeHost(host.toUpperCase())).toBe(normalizeHost(host));
      expect(normalizeHost(`${host}.`)).toBe(normalizeHost(host));
    }), { numRuns: 2000 });
  });

  it('returns lower-case ASCII without port or trailing dot', () => {
    fc.assert(fc.property(anyHost, (host) => {
      const normalized = normalizeHost(host);
      if (normalized === null) return;
      expect(normalized).toMatch(/^[\x21-\x7e]+$/);
      expect(normalized).toBe(normalized.toLowerCase());
      expect(normalized.endsWith('.')).toBe(false);
      if (!normalized.includes('::') && normalized.split(':').length === 2) throw new Error(`port left in ${normalized}`);
    }), { numRuns: 2000 });
  });
});
