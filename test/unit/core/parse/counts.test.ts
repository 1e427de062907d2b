// A status above 2^31 − 1 or a byte count above 2^53 − 2 cannot be held by the Avro
// GatewayRequest (and made the shipper's encoding throw mid-run): in every format such a line
// is a reject naming the field, and the largest values that fit are read.
import { describe, expect, it } from 'vitest';
import { builtInProfile, createLineParser, parseProfile } from '../../../../services/core/parse/index.js';
import type { ParseResult } from '../../../../services/core/types.js';

const W3C_FIELDS = '#Fields: date time c-ip cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query sc-status sc-bytes';
const w3c = (status: string, bytes: string) => `2012-01-10 09:31:02 10.0.0.1 GET http www.example.com 80 /news - ${status} ${bytes}`;
const CSV_HEADER = 'ts,url,status,bytes';
const csv = (status: string, bytes: string) => `2012-01-10T09:31:02Z,http://www.example.com/news,${status},${bytes}`;
const squid = (status: string, bytes: string) => `1326187862.123    145 10.12.0.5 TCP_MISS/${status} ${bytes} GET http://www.example.com/news - HIER_DIRECT/203.0.113.10 text/html`;
const ndjson = (status: string, bytes: string) => `{"ts":"2012-01-10T09:31:02Z","url":"http://www.example.com/news","status":${status},"bytes":${bytes}}`;
// A profile of its own naming the columns (the column-mapped path with a mapping).
const PROFILE = parseProfile({ format: 'csv', name: 'export', fields: { When: 'ts', Target: 'url', Code: 'status', Size: 'bytes' } }, 'test profile');

/** The last result of feeding a format's parser its preamble and then `line`. */
const FORMATS: Array<[string, (line: string) => ParseResult, (status: string, bytes: string) => string, string, string]> = [
  ['W3C', (line) => last(createLineParser('w3c', null), [W3C_FIELDS, line]), w3c, 'sc-status', 'sc-bytes'],
  ['CSV', (line) => last(createLineParser('csv', builtInProfile('csv')), [CSV_HEADER, line]), csv, 'status', 'bytes'],
  ['a CSV profile', (line) => last(createLineParser('csv', PROFILE), ['When,Target,Code,Size', line]), csv, 'Code', 'Size'],
  ['Squid', (line) => createLineParser('squid', builtInProfile('squid')).parseLine(line), squid, '%>Hs', '%<st'],
];

function last(parser: { parseLine(line: string): ParseResult }, lines: string[]): ParseResult {
  let r: ParseResult = { ok: 'skip' };
  for (const line of lines) r = parser.parseLine(line);
  return r;
}

function counts(r: ParseResult): { status: number | null; bytes: number | null } {
  if (r.ok !== true) throw new Error(`expected a request, got ${JSON.stringify(r)}`);
  return { status: r.request.status, bytes: r.request.bytes };
}

describe('the bounds of status and bytes', () => {
  it.each(FORMATS)('%s reads the largest status and byte count the Avro record holds', (_name, parse, line) => {
    expect(counts(parse(line('2147483647', '9007199254740990')))).toEqual({ status: 2147483647, bytes: 9007199254740990 });
  });

  it.each(FORMATS)('%s rejects a status above 2^31 − 1, naming the field', (_name, parse, line, statusField) => {
    expect(parse(line('2147483648', '5120'))).toEqual({ ok: false, reason: `${statusField}: 2147483648 is above 2147483647, the largest the Avro GatewayRequest holds` });
  });

  it.each(FORMATS)('%s rejects a byte count above 2^53 − 2, naming the field', (_name, parse, line, _statusField, bytesField) => {
    expect(parse(line('200', '9007199254740991'))).toEqual({ ok: false, reason: `${bytesField}: 9007199254740991 is above 9007199254740990, the largest the Avro GatewayRequest holds` });
    expect(parse(line('200', '12345678901234567890')).ok).toBe(false);
  });

  it('NDJSON rejects the same values (as numbers), and reads the largest', () => {
    const parser = createLineParser('ndjson', null);
    expect(counts(parser.parseLine(ndjson('2147483647', '9007199254740990')))).toEqual({ status: 2147483647, bytes: 9007199254740990 });
    expect(parser.parseLine(ndjson('2147483648', '1'))).toEqual({ ok: false, reason: 'status: not a non-negative integer' });
    expect(parser.parseLine(ndjson('200', '9007199254740991'))).toEqual({ ok: false, reason: 'bytes: not a non-negative integer' });
  });
});
