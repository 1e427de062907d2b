// The shipper's NDJSON → Avro writer must write exactly the bytes that parseNdjsonLine and
// the codec give, for every line: the line shapes of the parse tests (test/unit/core/parse),
// generated records, and a file read through the reading thread's path.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AvroCodec, toAvroGatewayRequest } from '../../../services/avro/index.js';
import { parseNdjsonLine } from '../../../services/core/parse/index.js';
import { readLogs } from '../../../services/files/index.js';
import { encodeRequests } from '../../../services/kafka/index.js';
import { NdjsonAvroWriter } from '../../../services/shipper/ndjson-avro.js';
import { encodedShipBatches } from '../../../services/shipper/read-thread.js';

const codec = new AvroCodec();

const O2 = {
  ts: '2012-01-10T09:31:02.123Z', gateway_id: 'gw-lon-01', request_id: '123', msisdn: '447700900123', bearer: '3g', client_ip: '10.12.0.5',
  method: 'GET', url: 'http://www.example.com/news?id=1',
  headers: { Host: 'www.example.com', 'User-Agent': 'Mozilla/5.0 (Linux; U; Android 2.3.4; en-gb; HTC Desire) AppleWebKit/533.1', 'X-UP-Calling-Line-ID': '447700900123' },
  status: 200, bytes: 5120,
};

const line = (fields: Record<string, unknown>): string => JSON.stringify({ ...O2, ...fields });

/** What the transcoder must give for `text`: parseNdjsonLine's result, and for a request the codec's bytes and the message key. */
function expected(text: string): { result: unknown; bytes?: string; key?: string | null } {
  const result = parseNdjsonLine(text);
  if (result.ok !== true) return { result };
  const r = result.request;
  return { result: null, bytes: codec.encode('GatewayRequest', toAvroGatewayRequest(r)).toString('hex'), key: r.msisdn ?? r.gatewayId ?? null };
}

function transcoded(writer: NdjsonAvroWriter, text: string): { result: unknown; bytes?: string; key?: string | null } {
  const result = writer.take(text);
  if (result !== null) return { result };
  const { keys, bytes, ends } = writer.takeEncoded();
  expect(ends.length).toBe(1);
  return { result: null, bytes: bytes.subarray(0, ends[0]).toString('hex'), key: keys[0] ?? null };
}

const TS = [
  '2012-01-10T09:31:02.123Z', '2012-01-10t09:31:02z', '2012-01-10T10:31:02+01:00', '2012-01-10T04:31:02-0500', '2012-01-10T11:31:02+02',
  '2012-01-10 09:31:02Z', '2012-01-10T09:31Z', '2012-01-10T09:31:02.123999Z', '2012-01-10T09:31:02.5Z', '2012-01-10T09:31:02,25Z',
  '2012-02-29T00:00:00Z', '2012-06-30T23:59:60Z', 1326187862123, '1326187862123', '1969-12-31T23:59:59Z',
  '2012-01-10T09:31:02', '2012-01-10', '2012-13-10T09:31:02Z', '2012-02-30T09:31:02Z', '2011-02-29T09:31:02Z', '2012-01-10T24:00:00Z',
  '2012-01-10T09:31:02+24:00', '2012-01-10T09:31:02Z junk', '2012-01-10T09:31:02.Z', '20120110T093102Z', 'Tue, 10 Jan 2012 09:31:02 GMT',
  1326187862123.5, 1326187862, '2012-01-10T09:31:xxZ', '', true, { ms: 1 }, null,
];
const URLS = [
  'http://www.example.com/news?id=1', 'http://www.example.com:8080/a', 'http://www.example.com', 'http://www.example.com?x=1',
  'http://www.example.com/a?b=1#top', 'HTTP://WWW.Example.COM/', 'http://user:pw@www.example.com:81/', 'http://[2001:db8::1]:8080/x',
  'http://[::1]/', 'http://10.0.0.1:80/', 'www.example.com:443', '//www.example.com/a', 'http://a.example/p?msisdn=447700900123&q=?',
  'http://evil.com%2ewww.ageverify.example/', '', 5, '/news', 'http://a.example:70000/', 'http://a.example:http/', 'http://[::1/',
  'http:///path', 'http://bücher.example/straße?q=ü', 'https://xn--bcher-kva.example/€', null,
];
const HEADERS = [
  { 'X-MSISDN': '+44 7700 900123', Cookie: ['a=1', 'b=2'], 'x-msisdn': '0' }, {}, null, { 'X-Foo': null, 'X-Bar': [] }, { 'X-Foo': 5 },
  { 'X-Foo': { a: 1 } }, { 'X-Foo': ['a', 1] }, ['Host', 'a'], 'Host: a', { __proto__: 'x' }, { 'Bad Name': '1' }, { 'X-Ü': '1' },
  { '123': 'digits', Host: 'a' }, { 'User-Agent': 'a\u001b[2Jb\u202e' }, { 'User-Agent': 'Mozilla "quoted" \\ back' }, { Referer: 'http://x/?m=447700900123', 'X-Null': null, Host: 'h' },
  { 'X-Empty': '' }, { 'X-Long': 'v'.repeat(300) }, { 'X-Emoji': '😀 ü' },
];
const SCALARS = [null, '', 'gw-lon-01', 447700900123, -1, 1.5, {}, ['10.0.0.1'], true, 'ü-ß', 'a"b'];
const COUNTS = [200, 0, -1, 1.5, '404', 'OK', null, 2 ** 31, 2 ** 31 - 1, 2 ** 53, 1e3, 9007199254740991];

/** Every line shape of the parse tests (ndjson, hostile lines), and a few more. */
function shapes(): string[] {
  const out = [JSON.stringify(O2), JSON.stringify(O2) + '\r\n'];
  for (const ts of TS) out.push(line({ ts }));
  for (const url of URLS) out.push(line({ url }));
  for (const headers of HEADERS) out.push(line({ headers }));
  for (const field of ['gateway_id', 'request_id', 'msisdn', 'bearer', 'client_ip', 'method']) for (const v of SCALARS) out.push(line({ [field]: v }));
  for (const field of ['status', 'bytes']) for (const v of COUNTS) out.push(line({ [field]: v }));
  for (const v of [undefined]) out.push(line({ gateway_id: v, request_id: v }), line({ request_id: v }), line({ gateway_id: v, msisdn: v }));
  const targets: Array<Record<string, unknown>> = [
    { host: 'www.example.com' }, { host: 'www.example.com:8080' }, { host: '[::1]:8080' }, { host: '2001:db8::1' },
    { scheme: 'HTTP', host: 'www.example.com', port: 80, path: '/news', query: 'id=1' }, { host: 'a.example', port: '8080' },
    { host: 'a.example:81', port: 82 }, { host: 'a.example', path: '/p?x=1' }, { host: 'a.example', path: '/p', query: '?x=1' },
    { url: '/news?id=1', host: 'www.example.com' }, { url: '/news?id=1', headers: { Host: 'www.example.com' } }, { host: '[::1]x' },
    { host: ':80' }, { host: 'a.example', port: 65536 }, { host: 'a.example', port: true },
    // Target fields beside an absolute url are not read: kept as JSON, whatever their type.
    { host: 'other.example', port: true, path: 5, query: null, scheme: ['x'] },
  ];
  for (const t of targets) {
    const { url: _url, ...rest } = O2;
    out.push(JSON.stringify({ ...rest, ...t }));
    out.push(JSON.stringify({ ts: 1326187862123, ...t }));
  }
  out.push(
    '{"url":"http://a.example/"}', '{}', '', ' \t ', '\r', '{"ts":0,"url":"http://a.example/"', '2012-01-10 09:31:02 gw-lon-01', '[1,2]', '"x"', 'null',
    '{' + 'x'.repeat(10_000),
    '{"ts":1326187862123,"url":"http://a.example/","shipper":{"host":"x"},"__proto__":{"host":"evil"},"headers":{"__proto__":"x"}}',
    // JSON the scanner must read as JSON.parse does, or leave to it.
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","ts":"2013-01-10T09:31:02Z"}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","headers":{"A":"1","B":"2","A":"3"}}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","headers":{"A":"1","A":null}}',
    '{ "ts" : "2012-01-10T09:31:02Z" , "url" : "http://a.example/" , "headers" : { "Host" : "a" } , "status" : 200 }  ',
    '{"ts":"2012-01-10T09:31:02Z",\t"url":"http://a.example/"}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/",}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/"} x',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/"}}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","status":007}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","status":2e2}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","status":-0}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","x":-1.5e+3,"y":[1,{"a":2}],"z":false,"w":nul}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","x":-}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","x":truex}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.\\u0065xample/"}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","msisdn":"4477\\u00300"}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","constructor":"x","toString":1,"hasOwnProperty":null}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","headers":{"constructor":"x"}}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","headers":{"Host":"a",}}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","headers":{"Host" "a"}}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","headers":{"Host":"a"',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","a":"unterminated',
    '{"ts":"2012-01-10T09:31:02Z" "url":"http://a.example/"}',
    '{"ts":"2012-01-10T09:31:02Z","url"}',
    '\ufeff{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/"}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","headers":{"X-A":"\\ud800","X-B":"\\ud83d\\ude00 \\u00e9","X-C":"\\ud800' + 'x'.repeat(70) + '"}}',
    '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","headers":{"X-A":"a\\"b","X-B":"\\/\\n"},"method":"G\\tET"}',
  );
  return out;
}

describe('the NDJSON → Avro writer', () => {
  it('gives parseNdjsonLine\'s result, and the codec\'s bytes and key, on every line shape of the parse tests', () => {
    const writer = new NdjsonAvroWriter(codec);
    const lines = shapes();
    for (const text of lines) expect({ text, ...transcoded(writer, text) }).toEqual({ text, ...expected(text) });
    // The plain shapes are the scanner's own, not left to parseNdjsonLine.
    expect(writer.transcoded).toBeGreaterThan(lines.length / 4);
  });

  it('writes the O2 line itself, escapes and repeated keys too, and leaves arrays of header values and \\u escapes to parseNdjsonLine', () => {
    const writer = new NdjsonAvroWriter(codec);
    const here = [JSON.stringify(O2), line({ method: 'G\\ET', headers: { 'User-Agent': 'a "b"' } }), '{"ts":"2012-01-10T09:31:02Z","url":"http://a.example/","ts":"2012-01-11T09:31:02Z"}'];
    for (const text of here) expect(transcoded(writer, text)).toEqual(expected(text));
    expect(writer.transcoded).toBe(3);
    for (const text of [line({ headers: { Accept: ['a', 'b'] } }), line({ method: '\ud800' }), line({ ts: 1326187862123 })]) {
      expect(transcoded(writer, text)).toEqual(expected(text));
    }
    expect(writer.transcoded).toBe(3);
  });

  it('keeps every batch it handed out intact while it writes past its buffer into new ones', () => {
    const writer = new NdjsonAvroWriter(codec);
    const lines = Array.from({ length: 3000 }, (_, i) => line({ request_id: String(i), url: `http://site${i % 50}.example/p?q=${'x'.repeat(i % 900)}` }));
    const taken = [];
    for (let i = 0; i < lines.length; i++) {
      expect(writer.take(lines[i]!)).toBeNull();
      if (i % 7 === 6 || i === lines.length - 1) taken.push(writer.takeEncoded());
    }
    // More than the writer's 1 MiB buffer was written, so earlier views are of buffers it left.
    expect(new Set(taken.map((t) => t.bytes.buffer)).size).toBeGreaterThan(1);
    const got = taken.flatMap(({ bytes, ends }) => Array.from(ends, (end, k) => bytes.subarray(k === 0 ? 0 : ends[k - 1], end).toString('hex')));
    expect(got).toEqual(lines.map((l) => expected(l).bytes));
  });

  it('agrees with parseNdjsonLine and the codec on generated records', () => {
    const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.constantFrom('', 'gw-1', '447700900123'));
    const value = fc.oneof(text, fc.constant(null), fc.integer({ min: -5, max: 2 ** 32 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean());
    // Mostly what a gateway logs, sometimes anything: both the scanner's lines and the ones it leaves to JSON.parse.
    const plain = fc.oneof({ arbitrary: text, weight: 4 }, value);
    const count = fc.oneof({ arbitrary: fc.nat(), weight: 4 }, value);
    const name = fc.oneof(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/), fc.string({ maxLength: 6 }));
    const record = fc.record({
      ts: fc.oneof({ arbitrary: fc.date({ min: new Date('1960-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()), weight: 6 }, value),
      url: fc.oneof({ arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }), weight: 6 }, text, value),
      gateway_id: plain, request_id: plain, msisdn: plain, bearer: plain, client_ip: plain, method: plain, status: count, bytes: count,
      headers: fc.oneof(fc.dictionary(name, fc.oneof(text, fc.constant(null), fc.array(text, { maxLength: 2 }), value), { maxKeys: 6 }), value),
      extra: value,
    }, { requiredKeys: ['ts', 'url'] });
    const writer = new NdjsonAvroWriter(codec);
    fc.assert(fc.property(record, fc.boolean(), (r, spaced) => {
      const t = JSON.stringify(r, null, spaced ? 1 : undefined).replace(/\n/g, ' ');
      expect(transcoded(writer, t)).toEqual(expected(t));
    }), { numRuns: 2000 });
    expect(writer.transcoded).toBeGreaterThan(100);
  }, 60_000);

  it('gives the reading thread\'s batches the bytes and keys of parsing and encoding, on a file of every shape', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lk-ndjson-avro-'));
    const file = join(dir, 'mix.ndjson');
    const lines = shapes().filter((l) => !/[\r\n]/.test(l.replace(/\r\n$/, '')));
    writeFileSync(file, `${lines.join('\n')}\n`);
    const options = { format: 'ndjson' as const, profile: null, batchLines: 16 };
    const got = { keys: [] as Array<string | null>, bytes: [] as string[], lines: 0, rejects: 0 };
    for await (const b of encodedShipBatches([file], options, codec)) {
      got.lines += b.lines;
      got.rejects += b.rejects.length;
      let start = 0;
      b.encoded.ends.forEach((end, i) => {
        got.keys.push(b.encoded.keys[i] ?? null);
        got.bytes.push(b.encoded.bytes.subarray(start, end).toString('hex'));
        start = end;
      });
    }
    const want = { keys: [] as Array<string | null>, bytes: [] as string[], lines: 0, rejects: 0 };
    for await (const b of readLogs([file], { format: 'ndjson', batchLines: 16 })) {
      want.lines += b.lines;
      want.rejects += b.rejects.length;
      const e = encodeRequests(codec, b.requests);
      let start = 0;
      e.ends.forEach((end, i) => {
        want.keys.push(e.keys[i] ?? null);
        want.bytes.push(e.bytes.subarray(start, end).toString('hex'));
        start = end;
      });
    }
    expect(got).toEqual(want);
    expect(want.bytes.length).toBeGreaterThan(100);
    expect(want.rejects).toBeGreaterThan(30);
  });
});
