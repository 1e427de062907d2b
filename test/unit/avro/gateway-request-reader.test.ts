// The detector's GatewayRequest reader against the codec (avsc): the same request, or the same
// error, for every message — plain ones, non-ASCII ones, old writer schemas, and corrupt bytes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AvroCodec, GatewayRequestReader, fromAvroGatewayRequest, type AvroGatewayRequest } from '../../../services/avro/index.js';

const codec = new AvroCodec();
const reader = new GatewayRequestReader(codec);
const FIXTURES = fileURLToPath(new URL('../../fixtures/avro/', import.meta.url));

/** What the codec answers for `buf`: the request, or the error's class, code and message. */
function viaCodec(buf: Buffer): unknown {
  try {
    return { ok: fromAvroGatewayRequest(codec.decodeAs('GatewayRequest', buf)) };
  } catch (err) {
    return { error: (err as Error).constructor.name, code: (err as { code?: string }).code, message: (err as Error).message };
  }
}

function viaReader(buf: Buffer): unknown {
  try {
    return { ok: reader.read(buf) };
  } catch (err) {
    return { error: (err as Error).constructor.name, code: (err as { code?: string }).code, message: (err as Error).message };
  }
}

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 12 }), fc.constantFrom('', '447700900123', 'www.news.co.uk', 'x-msisdn'));
const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
const request: fc.Arbitrary<AvroGatewayRequest> = fc.record({
  ts: fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.constantFrom(0, 1326187862123, 2 ** 52, -1, -(2 ** 40))),
  request_key: text,
  gateway_id: nullable(text),
  request_id: nullable(text),
  msisdn: nullable(text),
  bearer: nullable(text),
  client_ip: nullable(text),
  method: nullable(text),
  scheme: nullable(text),
  host: text,
  port: nullable(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
  path: text,
  query: text,
  headers: fc.array(fc.record({ name: text, value: text }), { maxLength: 8 }),
  status: nullable(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
  bytes: nullable(fc.oneof(fc.integer(), fc.constantFrom(2 ** 52, -(2 ** 52)))),
});

describe('GatewayRequestReader', () => {
  it('reads the current schema itself (its layout matches schemas/GatewayRequest.avsc)', () => {
    expect(reader.fast).toBe(true);
  });

  it('gives what the codec gives for every request written with the current schema', () => {
    fc.assert(fc.property(request, (r) => {
      const buf = codec.encode('GatewayRequest', r);
      expect(viaReader(buf)).toEqual(viaCodec(buf));
      expect(viaReader(buf)).toEqual({ ok: fromAvroGatewayRequest(r) });
    }), { numRuns: 2000 });
  });

  it('gives what the codec gives, request or error, for corrupt, truncated and lengthened messages', () => {
    fc.assert(fc.property(request, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.integer({ min: -20, max: 4 }),
      (r, edits, resize) => {
        const encoded = codec.encode('GatewayRequest', r);
        const buf = Buffer.alloc(Math.max(0, encoded.length + resize));
        encoded.copy(buf, 0, 0, Math.min(encoded.length, buf.length));
        // Keep the header most of the time, so that the body's reading is what is tried.
        for (const [at, byte] of edits) if (buf.length > 10) buf[10 + (at % (buf.length - 10))] = byte;
        expect(viaReader(buf)).toEqual(viaCodec(buf));
      }), { numRuns: 3000 });
  });

  it('reads a message of an older writer schema through the codec, as the codec does', () => {
    const v1 = Buffer.from(readFileSync(`${FIXTURES}gateway-request.v1.hex`, 'utf8').trim(), 'hex');
    const got = viaReader(v1) as { ok: { msisdn: string; bearer: string | null } };
    expect(got).toEqual(viaCodec(v1));
    expect(got.ok.msisdn).toBe('447700900123');
    expect(got.ok.bearer).toBeNull();
  });

  it('refuses what is not a GatewayRequest message with the codec\'s error', () => {
    const alert = codec.encode('PartnerRecord', {
      registry_version: '1', region: 'GB', identity_headers: [], partner_count: 0, partner_id: 'p', periods: [],
    });
    for (const buf of [alert, Buffer.from('not avro'), Buffer.alloc(0)]) {
      const got = viaReader(buf) as { code?: string };
      expect(got).toEqual(viaCodec(buf));
      expect(got.code).toMatch(/^SCHEMA_/);
    }
  });
});
