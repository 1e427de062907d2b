import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { LeakscopeError } from '../../../services/core/errors.js';
import {
  AvroCodec,
  DEFAULT_SCHEMAS_DIR,
  SCHEMA_NAMES,
  canonicalForm,
  crc64AvroBytes,
  type AvroRecords,
  type SchemaName,
} from '../../../services/avro/index.js';

const SCHEMAS_DIR = fileURLToPath(new URL('../../../schemas/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/avro/', import.meta.url));
const codec = new AvroCodec();

const SAMPLES: AvroRecords = {
  GatewayRequest: {
    ts: 1326187862123,
    request_key: 'gw-lon-01:gw-lon-01:123',
    gateway_id: 'gw-lon-01',
    request_id: 'gw-lon-01:123',
    msisdn: '447700900123',
    bearer: '3g',
    client_ip: '10.12.0.5',
    method: 'GET',
    scheme: 'http',
    host: 'www.example.com',
    port: 80,
    path: '/news',
    query: 'id=1',
    headers: [
      { name: 'host', value: 'www.example.com' },
      { name: 'x-msisdn', value: '447700900123' },
      { name: 'x-msisdn', value: '447700900123' },
    ],
    status: 200,
    bytes: 5120,
  },
  PartnerRecord: {
    registry_version: '2012-01-25.1',
    region: 'GB',
    identity_headers: ['x-o2-subscriber'],
    partner_count: 3,
    partner_id: 'ageverify',
    periods: [
      { name: 'AgeVerify Ltd', purposes: ['age_verification'], domains: ['*.ageverify.example'], identifiers: ['x-msisdn'], valid_from: 1306886400000, valid_to: null },
      { name: 'AgeVerify', purposes: [], domains: ['ageverify.example'], identifiers: ['url', 'referer'], valid_from: null, valid_to: 1306886400000 },
    ],
  },
  Disclosure: {
    id: 'd-1',
    request_key: 'gw-lon-01:gw-lon-01:123',
    ts: 1326187862123,
    host: 'www.example.com',
    site: 'example.com',
    subscriber_hash: 'ab'.repeat(32),
    subscriber_masked: '+4477009****23',
    subscriber_enc: 'v1:AAAA',
    channels: ['header:x-msisdn', 'url'],
    verdict: 'unauthorized_recipient',
    partner_id: null,
    registry_version: '2012-01-25.1',
    gateway_id: 'gw-lon-01',
    bearer: null,
    method: 'GET',
    scheme: 'http',
    path: '/news',
    query_masked: 'id=1',
    status: 200,
  },
  LeakAlert: {
    id: 'a-1',
    kind: 'first_disclosure',
    site: 'example.com',
    host: 'www.example.com',
    verdict: 'unauthorized_recipient',
    partner_id: null,
    channels: ['header:x-msisdn'],
    subscriber_masked: '+4477009****23',
    sites: [],
    first_seen: 1326187862123,
    count: 1,
    detected_at: 1326187863000,
    registry_version: '2012-01-25.1',
    status: 'firing',
    resolves: null,
    ends_at: null,
  },
};

function refusal(fn: () => unknown): LeakscopeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof LeakscopeError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

function readSchema(file: string): avro.Type {
  return avro.Type.forSchema(JSON.parse(readFileSync(join(SCHEMAS_DIR, file), 'utf8')), { wrapUnions: 'never' });
}

describe('AvroCodec', () => {
  it('finds the repository schemas from the module, as it will from dist/', () => {
    expect(DEFAULT_SCHEMAS_DIR.replace(/\/$/, '')).toBe(SCHEMAS_DIR.replace(/\/$/, ''));
  });

  it.each(SCHEMA_NAMES)('round-trips a %s in single-object encoding', (name) => {
    const buf = codec.encode(name, SAMPLES[name]);
    expect(buf.subarray(0, 2).toString('hex')).toBe('c301');
    expect(buf.subarray(2, 10).toString('hex')).toBe(codec.fingerprint(name));
    const decoded = codec.decode(buf);
    expect(decoded.schemaName).toBe(name);
    expect({ ...decoded.value }).toEqual(SAMPLES[name]);
    expect(codec.decodeAs(name, buf)).toEqual(SAMPLES[name]);
  });

  it.each(SCHEMA_NAMES)('puts the CRC-64-AVRO of the Parsing Canonical Form of schemas/%s.avsc in the header', (name) => {
    const type = readSchema(`${name}.avsc`);
    expect(codec.fingerprint(name)).toBe(crc64AvroBytes(canonicalForm(type)).toString('hex'));
    // The body is plain Avro binary that any other implementation reads with the same schema.
    expect(type.fromBuffer(codec.encode(name, SAMPLES[name]).subarray(10))).toEqual(SAMPLES[name]);
  });

  it.each(SCHEMA_NAMES)('has a TypeScript record with exactly the fields of schemas/%s.avsc', (name: SchemaName) => {
    const schema = JSON.parse(readFileSync(join(SCHEMAS_DIR, `${name}.avsc`), 'utf8')) as { fields: Array<{ name: string }> };
    expect(Object.keys(SAMPLES[name]).sort()).toEqual(schema.fields.map((f) => f.name).sort());
    expect(readSchema(`${name}.avsc`).isValid(SAMPLES[name], { noUndeclaredFields: true })).toBe(true);
  });

  it('reads a message written with GatewayRequest v1 as the current schema, with defaults for new fields', () => {
    const buf = Buffer.from(readFileSync(join(FIXTURES, 'gateway-request.v1.hex'), 'utf8').trim(), 'hex');
    const v1 = codec.knownSchemas().find((s) => s.schemaName === 'GatewayRequest' && s.version === 'v1');
    expect(buf.subarray(2, 10).toString('hex')).toBe(v1?.fingerprint);
    expect(v1?.fingerprint).not.toBe(codec.fingerprint('GatewayRequest'));
    const value = codec.decodeAs('GatewayRequest', buf);
    expect(value.bearer).toBeNull();
    expect(value.client_ip).toBeNull();
    expect(value.msisdn).toBe('447700900123');
    expect(value.headers.map((h) => [h.name, h.value])).toEqual([
      ['host', 'www.example.com'],
      ['x-msisdn', '447700900123'],
      ['x-msisdn', '447700900123'],
    ]);
    expect(value.ts).toBe(Date.parse('2012-01-10T09:31:02.123Z'));
  });

  it('reads any v1 message a writer produces now, too', () => {
    const v1 = readSchema('history/GatewayRequest.v1.avsc');
    const { bearer: _b, client_ip: _c, ...old } = SAMPLES.GatewayRequest;
    const buf = Buffer.concat([Buffer.from('c301', 'hex'), crc64AvroBytes(canonicalForm(v1)), v1.toBuffer(old)]);
    expect(codec.decode(buf)).toEqual({ schemaName: 'GatewayRequest', value: { ...old, bearer: null, client_ip: null } });
  });

  it('reads a LeakAlert written with v1 (before the partner kinds) as the current schema: firing, nothing resolved', () => {
    const buf = Buffer.from(readFileSync(join(FIXTURES, 'leak-alert.v1.hex'), 'utf8').trim(), 'hex');
    const v1 = codec.knownSchemas().find((s) => s.schemaName === 'LeakAlert' && s.version === 'v1');
    expect(buf.subarray(2, 10).toString('hex')).toBe(v1?.fingerprint);
    expect(v1?.fingerprint).not.toBe(codec.fingerprint('LeakAlert'));
    const value = codec.decodeAs('LeakAlert', buf);
    expect(value).toMatchObject({ kind: 'spread', site: null, count: 23, status: 'firing', resolves: null, ends_at: null });
    expect(value.sites).toEqual(['a.example', 'b.example']);
    expect(value.first_seen).toBe(Date.parse('2012-01-10T09:30:00.000Z'));
  });

  it('refuses an unknown fingerprint, naming it and what to do', () => {
    const buf = codec.encode('GatewayRequest', SAMPLES.GatewayRequest);
    buf.writeUInt32LE(0xdeadbeef, 2);
    const error = refusal(() => codec.decode(buf));
    expect(error.code).toBe('SCHEMA_UNKNOWN');
    expect(error.message).toContain(`unknown Avro schema fingerprint ${buf.subarray(2, 10).toString('hex')}`);
    expect(error.message).toMatch(/schemas\/history/);
  });

  it.each([
    ['a wrong marker', Buffer.from('c401' + '00'.repeat(12), 'hex')],
    ['a JSON message', Buffer.from('{"ts":1}')],
    ['an empty message', Buffer.alloc(0)],
    ['a header cut short', Buffer.from('c30107470585', 'hex')],
  ])('refuses %s as not a single-object message', (_label, buf) => {
    const error = refusal(() => codec.decode(buf));
    expect(error.code).toBe('SCHEMA_UNKNOWN');
    expect(error.message).toMatch(/not an Avro single-object message/);
  });

  it('refuses a truncated body and trailing bytes', () => {
    const buf = codec.encode('GatewayRequest', SAMPLES.GatewayRequest);
    for (let cut = 10; cut < buf.length; cut += 7) {
      expect(refusal(() => codec.decode(buf.subarray(0, cut))).code).toBe('SCHEMA_INCOMPATIBLE');
    }
    const error = refusal(() => codec.decode(Buffer.concat([buf, Buffer.from([0])])));
    expect(error.code).toBe('SCHEMA_INCOMPATIBLE');
    expect(error.message).toMatch(/1 trailing bytes/);
  });

  it('refuses a hostile array count without allocating for it', () => {
    // A GatewayRequest whose headers claim 2^30 items in a message of a few dozen bytes.
    const v = SAMPLES.GatewayRequest;
    const type = readSchema('GatewayRequest.avsc');
    const good = codec.encode('GatewayRequest', { ...v, headers: [] });
    const before = type.toBuffer({ ...v, headers: [], status: null, bytes: null });
    const prefix = before.subarray(0, before.length - 3); // up to the headers' block count (0) and two nulls
    const zigzag = (n: number): number[] => {
      const out: number[] = [];
      let z = n * 2;
      while (z >= 0x80) {
        out.push((z % 0x80) | 0x80);
        z = Math.floor(z / 0x80);
      }
      out.push(z);
      return out;
    };
    const hostile = Buffer.concat([good.subarray(0, 10), prefix, Buffer.from(zigzag(2 ** 30)), Buffer.from([0, 0])]);
    const started = Date.now();
    for (const buf of [hostile]) {
      for (const fn of [() => codec.decode(buf)]) {
        expect(refusal(fn).code).toBe('SCHEMA_INCOMPATIBLE');
      }
    }
    expect(Date.now() - started).toBeLessThan(1000);
    // The same through the resolver path: a v1 message with a hostile count.
    const v1 = readSchema('history/GatewayRequest.v1.avsc');
    const { bearer: _b, client_ip: _c, ...old } = v;
    const oldBody = v1.toBuffer({ ...old, headers: [], status: null, bytes: null });
    const oldHostile = Buffer.concat([Buffer.from('c301', 'hex'), crc64AvroBytes(canonicalForm(v1)), oldBody.subarray(0, oldBody.length - 3), Buffer.from(zigzag(2 ** 30)), Buffer.from([0, 0])]);
    expect(refusal(() => codec.decode(oldHostile)).code).toBe('SCHEMA_INCOMPATIBLE');
  });

  it('refuses a message of another schema where one was expected', () => {
    const buf = codec.encode('LeakAlert', SAMPLES.LeakAlert);
    const error = refusal(() => codec.decodeAs('GatewayRequest', buf));
    expect(error.code).toBe('SCHEMA_INCOMPATIBLE');
    expect(error.message).toMatch(/expected a GatewayRequest message, got LeakAlert/);
  });

  it('refuses to encode a value that does not fit, saying where', () => {
    const error = refusal(() => codec.encode('GatewayRequest', { ...SAMPLES.GatewayRequest, host: null as unknown as string }));
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toMatch(/invalid at host/);
  });

  it('encodes values larger than its scratch buffer', () => {
    const big = { ...SAMPLES.GatewayRequest, query: 'q='.padEnd(200_000, 'x') };
    expect(codec.decodeAs('GatewayRequest', codec.encode('GatewayRequest', big)).query).toBe(big.query);
  });

  it('encodes a batch into one buffer whose slices are the messages encode() gives, past its scratch buffer too', () => {
    const values = Array.from({ length: 300 }, (_, i) => ({ ...SAMPLES.GatewayRequest, request_key: `gw:${i}`, query: 'q='.padEnd(i === 7 ? 150_000 : i * 3, 'x') }));
    const { bytes, ends } = codec.encodeAll('GatewayRequest', values);
    expect(ends.length).toBe(values.length);
    expect(bytes.length).toBeGreaterThan(64 * 1024);
    expect(bytes.buffer.byteLength).toBe(bytes.length); // its own memory, transferable
    values.forEach((v, i) => expect(bytes.subarray(i === 0 ? 0 : ends[i - 1], ends[i])).toEqual(codec.encode('GatewayRequest', v)));
    expect(() => codec.encodeAll('GatewayRequest', [values[0]!, { ...values[1]!, host: null as unknown as string }])).toThrow(/invalid at host/);
  });

  it('refuses at start-up a history schema the current schema cannot read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'leakscope-avro-'));
    try {
      cpSync(SCHEMAS_DIR, dir, { recursive: true });
      const v0 = JSON.parse(readFileSync(join(SCHEMAS_DIR, 'GatewayRequest.avsc'), 'utf8'));
      v0.fields = v0.fields.map((f: { name: string }) => (f.name === 'host' ? { name: 'host', type: 'int' } : f));
      writeFileSync(join(dir, 'history', 'GatewayRequest.v0.avsc'), JSON.stringify(v0));
      const error = refusal(() => new AvroCodec({ schemasDir: dir }));
      expect(error.code).toBe('SCHEMA_INCOMPATIBLE');
      expect(error.message).toMatch(/GatewayRequest\.v0\.avsc: cannot be read with the current GatewayRequest schema/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists every schema it reads, with version and fingerprint', () => {
    const known = codec.knownSchemas();
    expect(known.map((k) => `${k.schemaName}@${k.version}`)).toEqual([
      'GatewayRequest@current',
      'PartnerRecord@current',
      'Disclosure@current',
      'LeakAlert@current',
      'GatewayRequest@v1',
      'LeakAlert@v1',
    ]);
    expect(new Set(known.map((k) => k.fingerprint)).size).toBe(known.length);
  });
});
