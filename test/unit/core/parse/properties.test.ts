// Properties of both parsers over generated input: values survive the round trip through a
// line built the way a gateway writes it, and no input makes a parser throw.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createW3cParser, parseNdjsonLine } from '../../../../services/core/parse/index.js';

/** Generous: these run a hundred cases each, and CI machines are shared. */
const PROPERTY_TIMEOUT_MS = 30_000;

/** A header value that can sit on one log line: anything but CR and LF. */
const lineSafeText = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ''));
const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/);

/** A W3C field the way a gateway writes it: `-` when absent, quoted when needed, `""` for a quote. */
function w3cField(value: string | null): string {
  if (value === null) return '-';
  if (value === '' || value === '-' || /[\s"]/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

describe('W3C parsing', () => {
  it('round-trips arbitrary header values through a line it builds', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(headerName, fc.option(lineSafeText, { nil: null })), { minLength: 1, maxLength: 8 }), (headers) => {
        const parser = createW3cParser();
        parser.parseLine(`#Fields: date time cs-host ${headers.map(([n]) => `cs(${n})`).join(' ')}`);
        const result = parser.parseLine(`2012-01-10 09:31:02.123 www.example.com ${headers.map(([, v]) => w3cField(v)).join(' ')}`);
        expect(result.ok).toBe(true);
        if (result.ok !== true) return;
        const expected = headers.filter(([, v]) => v !== null).map(([n, v]) => [n.toLowerCase(), v]);
        expect(result.request.headers).toEqual(expected);
        expect(result.request.ts).toBe(Date.UTC(2012, 0, 10, 9, 31, 2, 123));
      }),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('round-trips quoted values into every carried-through field', () => {
    fc.assert(
      fc.property(fc.array(fc.option(lineSafeText, { nil: null }), { minLength: 5, maxLength: 5 }), ([gw, rid, msisdn, bearer, method]) => {
        const parser = createW3cParser();
        parser.parseLine('#Fields: date time cs-host x-gateway-id x-request-id x-msisdn x-bearer cs-method');
        const result = parser.parseLine(['2012-01-10', '09:31:02', 'a.example', ...[gw, rid, msisdn, bearer, method].map((v) => w3cField(v ?? null))].join(' '));
        expect(result.ok).toBe(true);
        if (result.ok !== true) return;
        const r = result.request;
        expect([r.gatewayId, r.requestId, r.msisdn, r.bearer, r.method]).toEqual([gw, rid, msisdn, bearer, method]);
        if (gw !== null && rid !== null) expect(r.requestKey).toBe(`${gw}:${rid}`);
      }),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('never throws on arbitrary lines, before or after a #Fields directive', () => {
    const withFields = createW3cParser();
    withFields.parseLine('#Fields: date time cs-host cs-uri sc-status sc-bytes cs-uri-port cs(X-A) sr(X-A)');
    const without = createW3cParser();
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('#Fields:', '"', '""', '-')), (line) => {
        for (const parser of [withFields, without]) {
          const result = parser.parseLine(line);
          expect([true, false, 'skip']).toContain(result.ok);
        }
      }),
    );
  }, PROPERTY_TIMEOUT_MS);
});

describe('NDJSON parsing', () => {
  it('round-trips arbitrary header values and msisdn through a JSON line', () => {
    fc.assert(
      fc.property(
        fc.dictionary(headerName, fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 }))),
        fc.option(fc.string({ minLength: 1 }), { nil: null }),
        (headers, msisdn) => {
          const result = parseNdjsonLine(JSON.stringify({ ts: 1326187862123, url: 'http://www.example.com/', msisdn, headers }));
          expect(result.ok).toBe(true);
          if (result.ok !== true) return;
          const expected = Object.entries(headers).flatMap(([n, v]) => (Array.isArray(v) ? v : [v]).map((x) => [n.toLowerCase(), x]));
          expect(result.request.headers).toEqual(expected);
          expect(result.request.msisdn).toBe(msisdn);
        },
      ),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('never throws on arbitrary lines or arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ ts: v, url: v, headers: v }))), (line) => {
        expect([true, false, 'skip']).toContain(parseNdjsonLine(line).ok);
      }),
    );
  }, PROPERTY_TIMEOUT_MS);

  it('never throws on records whose every field has an arbitrary JSON value', () => {
    const fields = ['ts', 'url', 'host', 'scheme', 'port', 'path', 'query', 'headers', 'msisdn', 'gateway_id', 'request_id', 'bearer', 'client_ip', 'method', 'status', 'bytes'];
    fc.assert(
      fc.property(fc.record(Object.fromEntries(fields.map((f) => [f, fc.jsonValue()])), { requiredKeys: [] }), (record) => {
        expect([true, false]).toContain(parseNdjsonLine(JSON.stringify(record)).ok);
      }),
    );
  }, PROPERTY_TIMEOUT_MS);
});
