import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AvroCodec,
  fromAvroDisclosure,
  fromAvroGatewayRequest,
  fromAvroPartnerRecord,
  toAvroDisclosure,
  toAvroGatewayRequest,
  toAvroPartnerRecords,
} from '../../../services/avro/index.js';
import { decryptNumber, protect } from '../../../services/core/privacy/index.js';
import { Protector } from '../../../services/store/index.js';
import type { Disclosure, GatewayRequest, Registry } from '../../../services/core/types.js';

const codec = new AvroCodec();
const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const nullable = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(arb, { nil: null });

const gatewayRequest: fc.Arbitrary<GatewayRequest> = fc.record({
  ts: fc.integer({ min: 0, max: 2 ** 46 }),
  requestKey: text,
  gatewayId: nullable(text),
  requestId: nullable(text),
  msisdn: nullable(fc.stringMatching(/^[0-9]{6,15}$/)),
  bearer: nullable(text),
  clientIp: nullable(text),
  method: nullable(text),
  scheme: nullable(text),
  host: text,
  port: nullable(fc.integer({ min: 0, max: 65535 })),
  path: text,
  query: text,
  headers: fc.array(fc.tuple(text, text).map(([n, v]) => [n, v] as const), { maxLength: 12 }),
  status: nullable(fc.integer({ min: 0, max: 999 })),
  // avsc refuses 2^53 - 1 itself as a long (its safe range stops one short).
  bytes: nullable(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 1 })),
});

describe('GatewayRequest mapping', () => {
  it('round-trips any request through Avro bytes, keeping header order and repeats', () => {
    fc.assert(
      fc.property(gatewayRequest, (request) => {
        const back = fromAvroGatewayRequest(codec.decodeAs('GatewayRequest', codec.encode('GatewayRequest', toAvroGatewayRequest(request))));
        expect(back).toEqual(request);
      }),
      { numRuns: 300 },
    );
  });
});

describe('PartnerRecord mapping', () => {
  const registry: Registry = {
    version: '2012-01-25.1',
    region: 'GB',
    identityHeaders: ['x-o2-subscriber'],
    partners: [
      { id: 'ageverify', name: 'AgeVerify Ltd', purposes: ['age_verification'], domains: ['*.ageverify.example'], identifiers: ['x-msisdn'], validFrom: 1306886400000, validTo: null },
      { id: 'billing', name: 'Billing', purposes: ['carrier_billing'], domains: ['pay.example'], identifiers: ['url'], validFrom: null, validTo: null },
      { id: 'ageverify', name: 'AgeVerify (trial)', purposes: [], domains: ['ageverify.example'], identifiers: ['url', 'referer'], validFrom: null, validTo: 1306886400000 },
    ],
  };

  it('writes one record per partner id holding all its periods, each with its own domains and identifiers', () => {
    const records = toAvroPartnerRecords(registry);
    expect(records.map((r) => [r.partner_id, r.periods.length, r.partner_count])).toEqual([
      ['ageverify', 2, 2],
      ['billing', 1, 2],
    ]);
    expect(records[0]?.periods[1]?.identifiers).toEqual(['url', 'referer']);
  });

  it('gives back the same registry entries after Avro bytes', () => {
    const entries = toAvroPartnerRecords(registry)
      .map((r) => fromAvroPartnerRecord(codec.decodeAs('PartnerRecord', codec.encode('PartnerRecord', r))))
      .flatMap((content) => {
        expect(content).toMatchObject({ registryVersion: registry.version, region: 'GB', identityHeaders: ['x-o2-subscriber'], partnerCount: 2 });
        return content.entries;
      });
    const byKey = (e: { id: string; name: string }): string => `${e.id}/${e.name}`;
    expect([...entries].sort((a, b) => byKey(a).localeCompare(byKey(b)))).toEqual(
      [...registry.partners].sort((a, b) => byKey(a).localeCompare(byKey(b))),
    );
  });
});

describe('Disclosure mapping', () => {
  const keys = { hashKey: Buffer.alloc(32, 1), encKey: Buffer.alloc(32, 2) };
  const disclosure: Disclosure = {
    id: 'd-1',
    requestKey: 'gw-lon-01:gw-lon-01:123',
    ts: 1326187862123,
    host: 'www.example.com',
    site: 'example.com',
    subscriber: '+447700900123',
    channels: ['header:x-msisdn'],
    verdict: 'unauthorized_recipient',
    partnerId: null,
    registryVersion: '2012-01-25.1',
    gatewayId: 'gw-lon-01',
    bearer: '3g',
    method: 'GET',
    scheme: 'http',
    path: '/news',
    queryMasked: 'id=1',
    status: 200,
  };

  it('stores the subscriber only protected, and the number decrypts back', () => {
    const protector = new Protector(keys);
    const avroValue = toAvroDisclosure(protector.toStored(disclosure));
    const bytes = codec.encode('Disclosure', avroValue);
    expect(bytes.includes(Buffer.from('447700900123'))).toBe(false);
    const stored = fromAvroDisclosure(codec.decodeAs('Disclosure', bytes));
    const { subscriberHash, subscriberMasked, subscriberEnc, ...rest } = stored;
    const { subscriber: _plain, ...expected } = disclosure;
    expect(rest).toEqual(expected);
    expect(subscriberHash).toBe(protect(keys, '+447700900123').subscriberHash);
    expect(subscriberMasked).toBe('+4477009****23');
    expect(decryptNumber(keys.encKey, subscriberEnc as string)).toBe('+447700900123');
  });

  it('stores a token-only disclosure without subscriber fields', () => {
    const protector = new Protector(keys);
    const stored = fromAvroDisclosure(codec.decodeAs('Disclosure', codec.encode('Disclosure', toAvroDisclosure(protector.toStored({ ...disclosure, subscriber: null })))));
    expect([stored.subscriberHash, stored.subscriberMasked, stored.subscriberEnc]).toEqual([null, null, null]);
  });
});
