// A registry change mid-stream is applied by validity time: requests are judged by the
// periods the registry gives for their own time, whenever the update arrived; a bad update
// never replaces the registry in use.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AvroCodec, type AvroPartnerRecord } from '../../../services/avro/index.js';
import { Protector } from '../../../services/store/index.js';
import { kafkaClient } from '../support/servers.js';
import { KEYS, cliOk, dropDatabase, startDetector, stopDetector, streamEnv, waitFor, type RunningDetector, type StreamEnv } from './harness.js';

const REGISTRY_V1 = `
version: "v1"
region: GB
partners:
  - id: ageverify
    name: AgeVerify Ltd
    purposes: [age_verification]
    domains: ["*.ageverify.example"]
    identifiers: [x-msisdn]
    valid_from: "2011-06-01T00:00:00Z"
`;
// The contract with ageverify ended on 15 Jan; billing's began then.
const REGISTRY_V2 = `
version: "v2"
region: GB
partners:
  - id: ageverify
    name: AgeVerify Ltd
    purposes: [age_verification]
    domains: ["*.ageverify.example"]
    identifiers: [x-msisdn]
    valid_from: "2011-06-01T00:00:00Z"
    valid_to: "2012-01-15T00:00:00Z"
  - id: billing
    name: Billing Co
    purposes: [carrier_billing]
    domains: ["*.billing.example"]
    identifiers: [x-msisdn]
    valid_from: "2012-01-15T00:00:00Z"
`;

function line(id: string, ts: string, host: string, msisdn: string): string {
  return JSON.stringify({ ts, gateway_id: 'gw-t', request_id: id, msisdn, url: `http://${host}/p`, headers: { Host: host, 'X-MSISDN': msisdn } });
}

/** The same four requests for a subscriber: each partner's host before and after 15 Jan. */
function fourRequests(tag: string, msisdn: string): string {
  return [
    line(`${tag}-a`, '2012-01-10T10:00:00Z', 'www.ageverify.example', msisdn),
    line(`${tag}-b`, '2012-01-20T10:00:00Z', 'www.ageverify.example', msisdn),
    line(`${tag}-c`, '2012-01-10T11:00:00Z', 'pay.billing.example', msisdn),
    line(`${tag}-d`, '2012-01-20T11:00:00Z', 'pay.billing.example', msisdn),
  ].join('\n') + '\n';
}

describe('registry changes mid-stream', () => {
  let s: StreamEnv;
  let d: RunningDetector;
  const dir = mkdtempSync(join(tmpdir(), 'lk-regchange-'));
  const protector = new Protector(KEYS);
  const verdictsOf = async (e164: string) => {
    const rows = await d.store.whoSaw(protector.subscriber(e164).subscriberHash, { from: null, to: null });
    return rows.map((r) => `${new Date(r.firstSeen).toISOString().slice(0, 10)} ${r.host} ${r.verdict} ${r.partnerId ?? '-'} ${r.requests}`).sort();
  };

  beforeAll(async () => {
    s = await streamEnv('regchange');
    writeFileSync(join(dir, 'v1.yaml'), REGISTRY_V1);
    writeFileSync(join(dir, 'v2.yaml'), REGISTRY_V2);
    writeFileSync(join(dir, 'part1.ndjson'), fourRequests('one', '447700900001'));
    writeFileSync(join(dir, 'part2.ndjson'), fourRequests('two', '447700900002'));
    writeFileSync(join(dir, 'part3.ndjson'), fourRequests('three', '447700900003'));
    await cliOk(s, ['registry', 'publish', join(dir, 'v1.yaml')]);
    d = await startDetector(s, { settings: { groupId: 'regchange' } });
  });
  afterAll(async () => {
    if (d) await stopDetector(d);
    if (s) await dropDatabase(s);
  });

  it('judges requests that arrive after an update by the periods valid at their own time', async () => {
    expect(d.detector.registry?.registry.version).toBe('v1');
    await cliOk(s, ['ship', join(dir, 'part1.ndjson')]);
    await waitFor('part 1 stored', async () => (await verdictsOf('+447700900001')).length === 2);
    expect(await verdictsOf('+447700900001')).toEqual([
      '2012-01-10 pay.billing.example unauthorized_recipient - 2',
      '2012-01-10 www.ageverify.example authorized ageverify 2',
    ]);

    const out = await cliOk(s, ['registry', 'publish', join(dir, 'v2.yaml')]);
    expect(out).toContain('published registry v2');
    await waitFor('v2 applied', () => d.detector.registry?.registry.version === 'v2');
    expect(d.metrics.registryUpdates.get()).toBeDefined();

    await cliOk(s, ['ship', join(dir, 'part2.ndjson')]);
    await waitFor('part 2 stored', async () => (await verdictsOf('+447700900002')).length === 4);
    // 10 Jan to ageverify is still authorised: v2 ends its contract on 15 Jan, not before.
    expect(await verdictsOf('+447700900002')).toEqual([
      '2012-01-10 pay.billing.example partner_inactive billing 1',
      '2012-01-10 www.ageverify.example authorized ageverify 1',
      '2012-01-20 pay.billing.example authorized billing 1',
      '2012-01-20 www.ageverify.example partner_inactive ageverify 1',
    ]);
    // What was stored before the update stays as judged.
    expect(await verdictsOf('+447700900001')).toHaveLength(2);
  });

  it('keeps the registry in use when an update does not decode or does not validate', async () => {
    const codec = new AvroCodec();
    const bad: AvroPartnerRecord = {
      registry_version: 'v3', region: 'GB', identity_headers: [], partner_count: 2, partner_id: 'ageverify',
      periods: [{ name: 'AgeVerify', purposes: [], domains: ['*.'], identifiers: ['x-msisdn'], valid_from: null, valid_to: null }],
    };
    const producer = kafkaClient(s.brokers).producer();
    await producer.connect();
    await producer.send({
      topic: `${s.prefix}partner-registry`,
      acks: -1,
      messages: [
        { key: 'billing', value: Buffer.from('not an avro record') },
        { key: 'ageverify', value: codec.encode('PartnerRecord', bad) },
        { key: 'billing', value: codec.encode('PartnerRecord', { ...bad, partner_id: 'billing', periods: [{ ...bad.periods[0]!, domains: ['*.billing.example'] }] }) },
        { key: '__registry__', value: codec.encode('PartnerRecord', { ...bad, partner_id: '__registry__', periods: [] }) },
      ],
    });
    await producer.disconnect();
    const refused = async () => (await d.metrics.registryUpdates.get()).values.find((v) => v.labels.outcome === 'refused')?.value ?? 0;
    await waitFor('both bad updates refused', async () => (await refused()) >= 2);
    expect(d.detector.registry?.registry.version).toBe('v2');

    await cliOk(s, ['ship', join(dir, 'part3.ndjson')]);
    await waitFor('part 3 stored', async () => (await verdictsOf('+447700900003')).length === 4);
    expect(await verdictsOf('+447700900003')).toEqual([
      '2012-01-10 pay.billing.example partner_inactive billing 1',
      '2012-01-10 www.ageverify.example authorized ageverify 1',
      '2012-01-20 pay.billing.example authorized billing 1',
      '2012-01-20 www.ageverify.example partner_inactive ageverify 1',
    ]);
  });
});
