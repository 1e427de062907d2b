// No subscriber number in clear in what the core hands to a store (issue 7, items 7 and 8):
// hosts, paths, queries in every spelling the detector reads, header names in channels, and
// the carried fields.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detect } from '../../../../services/core/detect/index.js';
import { asciiDigits, searchable } from '../../../../services/core/detect/redact.js';
import { buildSnapshot, parseRegistry } from '../../../../services/core/registry/index.js';
import type { Disclosure, GatewayRequest } from '../../../../services/core/types.js';

const snapshot = buildSnapshot(parseRegistry(`
version: "1"
region: GB
partners:
  - {id: tracker, name: Tracker, domains: ["*.tracker.example"], identifiers: [x-msisdn]}
`, 'test'));

function request(over: Partial<GatewayRequest>): GatewayRequest {
  return {
    ts: Date.UTC(2012, 0, 20), requestKey: 'gw-lon-01:1', gatewayId: 'gw-lon-01', requestId: '1', msisdn: '447700900123',
    bearer: '3g', clientIp: null, method: 'GET', scheme: 'http', host: 'www.example.com', port: null, path: '/news', query: 'id=1',
    headers: [['x-msisdn', '447700900123']], status: 200, bytes: 1, ...over,
  };
}

/** Every digit run of 9 or more digits (separators allowed) in the stored texts of a disclosure. */
function clearNumbers(d: Disclosure): string[] {
  const texts = [d.host, d.site, d.path, d.queryMasked, d.requestKey, d.gatewayId ?? '', d.bearer ?? '', d.method ?? '', d.scheme ?? '', ...d.channels];
  return texts.flatMap((t) => asciiDigits(t).match(/\d(?:[ .+-]?\d){8,}/g) ?? []);
}

describe('a number in the host', () => {
  it('is a url disclosure, stored and shown masked, the site still the registrable domain', () => {
    const d = detect(request({ host: '447700900123.tracker.example', headers: [['user-agent', 'x']] }), snapshot)!;
    expect(d.channels).toEqual(['url']);
    expect(d.host).toBe('4477009****23.tracker.example');
    expect(d.site).toBe('tracker.example');
    // The verdict is judged on the real host: the partner matches, but may not receive `url`.
    expect(d.verdict).toBe('identifier_not_allowed');
  });

  it('masks a number that is the registrable label itself, in the host and the site', () => {
    const d = detect(request({ host: 'www.447700900123.example' }), snapshot)!;
    expect(d.host).toBe('www.4477009****23.example');
    expect(d.site).toBe('4477009****23.example');
  });

  it('masks another person\'s number in the host of a request that discloses otherwise', () => {
    const d = detect(request({ host: '07700900999.calls.example' }), snapshot)!;
    expect(d.channels).toEqual(['header:x-msisdn']);
    expect(d.host).toBe('4477009****99.calls.example');
  });

  it('keeps IP literals and ordinary hosts as they are', () => {
    expect(detect(request({ host: '192.168.100.123' }), snapshot)!.host).toBe('192.168.100.123');
    expect(detect(request({ host: 'cdn3.news.example' }), snapshot)!.host).toBe('cdn3.news.example');
  });
});

describe('encoded numbers in paths and queries are masked after decoding', () => {
  it.each([
    ['another number percent-encoded', '/x', 'to=%2B44%207700%20900124', 'to=+4477009****24'],
    ['another number form-encoded', '/x', 'to=07700+900124', 'to=+4477009****24'],
    ['another number with its digits percent-encoded', '/x', 'to=44%37%37%30%30%39%30%30%31%32%34', 'to=+4477009****24'],
    ['another number in full-width digits', '/x', 'to=４４７７００９００１２４', 'to=+4477009****24'],
    ['the subscriber in full-width digits', '/x', 'me=０７７００９００１２３', 'me=+4477009****23'],
    ['the subscriber in Arabic-Indic digits', '/x', 'me=٠٧٧٠٠٩٠٠١٢٣', 'me=+4477009****23'],
  ])('%s', (_title, path, query, stored) => {
    const d = detect(request({ path, query }), snapshot)!;
    expect(d.queryMasked).toBe(stored);
    expect(clearNumbers(d)).toEqual([]);
  });

  it('finds the subscriber written in full-width digits as a url disclosure', () => {
    const d = detect(request({ headers: [], query: 'me=０７７００９００１２３' }), snapshot)!;
    expect(d.channels).toEqual(['url']);
  });

  it('masks an encoded number in the path', () => {
    const d = detect(request({ path: '/u/%2B447700900124/profile' }), snapshot)!;
    expect(d.path).toBe('/u/+4477009****24/profile');
  });

  it('keeps a text with no number exactly as logged, escapes included', () => {
    const d = detect(request({ path: '/caf%C3%A9', query: 'q=a+b%20c' }), snapshot)!;
    expect(d.path).toBe('/caf%C3%A9');
    expect(d.queryMasked).toBe('q=a+b%20c');
  });
});

describe('header names and carried fields hold no number in clear', () => {
  it('masks a number in a header name in the channels', () => {
    const d = detect(request({ headers: [['x-caller-447700900124', 'yes'], ['x-msisdn', '447700900123']] }), snapshot)!;
    expect(d.channels).toEqual(['header:x-msisdn']);
    const e = detect(request({ headers: [['x-caller-447700900124', '447700900123']] }), snapshot)!;
    expect(e.channels).toEqual(['header:x-caller-4477009****24']);
  });

  it('masks the subscriber\'s number in a header name that carries it', () => {
    const d = detect(request({ headers: [['x-msisdn', '1'], ['x-sub-447700900123', '447700900123']] }), snapshot)!;
    expect(d.channels).toEqual(['header:x-msisdn', 'header:x-sub-4477009****23']);
  });

  it('masks numbers in the request key, gateway id, bearer, method and scheme', () => {
    const d = detect(request({ requestKey: 'gw-447700900123:07700900124', gatewayId: 'gw-447700900123', bearer: 'apn 447700900123', method: 'GET447700900123', scheme: 'x447700900123' }), snapshot)!;
    expect(d.requestKey).toBe('gw-4477009****23:4477009****24');
    expect(d.gatewayId).toBe('gw-4477009****23');
    expect(clearNumbers(d)).toEqual([]);
  });

  it('keeps the disclosure id of the real request key, so rescans still find the same request', () => {
    const a = detect(request({ requestKey: 'gw:447700900123' }), snapshot)!;
    const b = detect(request({ requestKey: 'gw:447700900124' }), snapshot)!;
    expect(a.requestKey).not.toBe('gw:447700900123');
    expect(a.id).not.toBe(b.id);
  });
});

describe('properties', () => {
  it('the subscriber\'s number, in any usual spelling and encoding, never survives in a stored text', () => {
    const spelling = fc.constantFrom('447700900123', '+447700900123', '07700900123', '+44 7700 900123', '07700-900-123');
    const encode = fc.constantFrom(
      (s: string) => s,
      (s: string) => encodeURIComponent(s),
      (s: string) => s.replaceAll(' ', '+'),
      (s: string) => [...s].map((c) => (/\d/.test(c) ? String.fromCharCode(0xff10 + Number(c)) : c)).join(''),
      (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''),
    );
    const around = fc.string({ maxLength: 6 }).map((s) => s.replace(/[\d%+]/g, 'x'));
    fc.assert(fc.property(spelling, encode, around, around, fc.constantFrom('path', 'query', 'gw'), (s, enc, before, after, where) => {
      const text = `${before}=${enc(s)}&${after}`;
      const over: Partial<GatewayRequest> = where === 'path' ? { path: `/${text}` } : where === 'query' ? { query: text } : { gatewayId: text };
      const d = detect(request(over), snapshot)!;
      const stored = [d.path, d.queryMasked, d.gatewayId ?? ''].map((t) => searchable(t, true).replace(/\D/g, ''));
      for (const digits of stored) expect(digits).not.toContain('7700900123');
    }), { numRuns: 500 });
  });
});
