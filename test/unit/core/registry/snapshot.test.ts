import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BUILTIN_IDENTITY_HEADER_NAMES, buildSnapshot, HOST_MEMO_LIMIT, normalizeHost, parseRegistry,
} from '../../../../services/core/registry/index.js';

const fixture = readFileSync(new URL('../../../fixtures/registry/o2-gb.yaml', import.meta.url), 'utf8');
const snapshot = buildSnapshot(parseRegistry(fixture, 'o2-gb.yaml'));

/** Partner ids and patterns that match a host as logged (normalised first, as the detector does). */
function matches(host: string, snap = snapshot): string[] {
  const normalized = normalizeHost(host);
  if (normalized === null) return [];
  return snap.matchHost(normalized).map((m) => `${m.entry.id} ${m.pattern}`);
}

function registryOf(partners: string): ReturnType<typeof parseRegistry> {
  return parseRegistry(`version: "t"\nregion: GB\npartners:\n${partners}`, 't.yaml');
}

describe('matchHost on the example registry', () => {
  it.each([
    ['www.ageverify.example', ['ageverify *.ageverify.example']],
    ['a.b.c.ageverify.example', ['ageverify *.ageverify.example']],
    ['ageverify.example', []],
    ['badageverify.example', []],
    ['evil-ageverify.example', []],
    ['ageverify.example.evil.net', []],
    ['www.ageverify.example.evil.net', []],
    ['WWW.AgeVerify.EXAMPLE', ['ageverify *.ageverify.example']],
    ['www.ageverify.example.', ['ageverify *.ageverify.example']],
    ['www.ageverify.example:8080', ['ageverify *.ageverify.example']],
    ['ringtones4u.example', ['ringtones ringtones4u.example']],
    ['m.ringtones4u.example', ['ringtones *.ringtones4u.example']],
    ['shop.bücher.example', ['buecher *.xn--bcher-kva.example']],
    ['shop.xn--bcher-kva.example', ['buecher *.xn--bcher-kva.example']],
    ['BÜCHER.example', ['buecher xn--bcher-kva.example']],
    ['xn--bcher-kva.example', ['buecher xn--bcher-kva.example']],
    ['bucher.example', []],
    ['10.0.0.1', ['o2-portal 10.0.0.1']],
    ['10.0.0.1:8080', ['o2-portal 10.0.0.1']],
    ['10.0.0.10', []],
    ['110.0.0.1', []],
    ['my.o2.example', ['o2-portal my.o2.example']],
    ['www.my.o2.example', []],
    ['example', []],
    ['www.example.com', []],
  ])('matches %j to %j', (host, expected) => {
    expect(matches(host)).toEqual(expected);
  });

  it('returns every period of a partner, whatever the time, earliest first', () => {
    const found = snapshot.matchHost('pay.paybill.example');
    expect(found.map((m) => [m.entry.id, m.entry.validFrom])).toEqual([
      ['paybill', Date.parse('2010-03-01T00:00:00Z')],
      ['paybill', Date.parse('2011-09-01T00:00:00Z')],
    ]);
    expect(found.every((m) => m.pattern === 'pay.paybill.example' && m.specificity === 3)).toBe(true);
  });

  it('returns matches of a partner whose contract has ended', () => {
    expect(snapshot.matchHost('ringtones4u.example')[0]!.entry.validTo).toBe(Date.parse('2012-01-15T00:00:00Z'));
  });

  it('returns the same frozen answer for a repeated host', () => {
    const first = snapshot.matchHost('www.ageverify.example');
    expect(snapshot.matchHost('www.ageverify.example')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('adds the registry identity headers to the built-in ones', () => {
    expect(snapshot.identityHeaders.has('x-o2-subscriber')).toBe(true);
    for (const name of BUILTIN_IDENTITY_HEADER_NAMES) expect(snapshot.identityHeaders.has(name)).toBe(true);
    expect(snapshot.identityHeaders.size).toBe(BUILTIN_IDENTITY_HEADER_NAMES.size + 1);
  });
});

describe('matchHost ordering', () => {
  const layered = buildSnapshot(registryOf([
    '  - {id: zeta, name: Z, domains: ["*.example.com"], identifiers: [x-msisdn]}',
    '  - {id: alpha, name: A, domains: ["*.example.com"], identifiers: [x-msisdn]}',
    '  - {id: mid, name: M, domains: ["*.shop.example.com"], identifiers: [x-msisdn]}',
    '  - {id: exact, name: E, domains: ["www.shop.example.com"], identifiers: [url]}',
    '  - {id: late, name: L, domains: ["www.shop.example.com"], identifiers: [url], valid_from: "2012-01-01T00:00:00Z"}',
    '  - {id: late, name: L, domains: ["www.shop.example.com"], identifiers: [url], valid_to: "2012-01-01T00:00:00Z"}',
    '',
  ].join('\n')));

  it('puts more labels first, then exact before wildcard, then partner id, then start of validity', () => {
    expect(layered.matchHost('www.shop.example.com').map((m) => [m.entry.id, m.pattern, m.specificity, m.entry.validFrom])).toEqual([
      ['exact', 'www.shop.example.com', 4, null],
      ['late', 'www.shop.example.com', 4, null],
      ['late', 'www.shop.example.com', 4, Date.parse('2012-01-01T00:00:00Z')],
      ['mid', '*.shop.example.com', 3, null],
      ['alpha', '*.example.com', 2, null],
      ['zeta', '*.example.com', 2, null],
    ]);
  });

  it('never lets a wildcard match its own apex', () => {
    expect(layered.matchHost('shop.example.com').map((m) => m.entry.id)).toEqual(['alpha', 'zeta']);
    expect(layered.matchHost('example.com')).toEqual([]);
  });

  it('gives the same answers after the memo is cleared', () => {
    const before = layered.matchHost('a.shop.example.com').map((m) => m.entry.id);
    for (let i = 0; i <= HOST_MEMO_LIMIT; i++) layered.matchHost(`h${i}.example.org`);
    expect(layered.matchHost('a.shop.example.com').map((m) => m.entry.id)).toEqual(before);
  });
});

describe('matchHost with IP literals', () => {
  const ips = buildSnapshot(registryOf([
    '  - {id: v4, name: V4, domains: ["10.0.0.1"], identifiers: [x-msisdn]}',
    '  - {id: v6, name: V6, domains: ["2001:db8::1"], identifiers: [x-msisdn]}',
    '  - {id: names, name: N, domains: ["*.example.com"], identifiers: [x-msisdn]}',
    '',
  ].join('\n')));

  it.each([
    ['10.0.0.1', ['v4 10.0.0.1']],
    ['10.0.0.10', []],
    ['10.0.0.1.example.com', ['names *.example.com']],
    ['[2001:DB8:0::1]:443', ['v6 2001:db8::1']],
    ['2001:db8::2', []],
  ])('matches %j to %j', (host, expected) => {
    expect(matches(host, ips)).toEqual(expected);
  });
});
