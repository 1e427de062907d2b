// The scan's encoder (StagingEncoder: straight from the core's Disclosure, the subscriber's
// protected columns cached per number) writes the rows encodeStaging writes for the stored
// records, and a store given its batch stores exactly those records.
import { describe, expect, it } from 'vitest';
import { detect } from '../../../../services/core/detect/index.js';
import { parseNdjsonLine } from '../../../../services/core/parse/index.js';
import { buildSnapshot, parseRegistry } from '../../../../services/core/registry/index.js';
import type { Disclosure } from '../../../../services/core/types.js';
import { openDuckDbStore } from '../../../../services/store/duckdb/index.js';
import { StagingEncoder, encodeStaging } from '../../../../services/store/duckdb/staging-format.js';
import { Protector, buildReport, createBatchEncoder } from '../../../../services/store/index.js';

const KEYS = { hashKey: Buffer.alloc(32, 7), encKey: Buffer.alloc(32, 9) };
const REGISTRY = parseRegistry(`version: "t1"
region: GB
partners:
  - id: ageverify
    name: AgeVerify
    domains: ["*.ageverify.example"]
    identifiers: [x-msisdn]
`, 'registry.yaml');

function disclosures(): Disclosure[] {
  const snapshot = buildSnapshot(REGISTRY);
  const lines = [
    { msisdn: '447700900123', url: 'http://www.news.co.uk/a?msisdn=447700900123', headers: { 'X-UP-Calling-Line-ID': '447700900123' } },
    { msisdn: '447700900123', url: 'http://www.ageverify.example/verify', headers: { 'X-MSISDN': '+447700900123' } }, // the same number again
    { msisdn: '447700900456', url: 'http://t.tracker.example/p', headers: { Referer: 'http://x.example/?n=%2B447700900456' } },
    { msisdn: null, url: 'http://www.recognise.example/id', headers: { 'X-ACR': 'tokenABCdef' } }, // no subscriber: a token alone
    { msisdn: '447700900789', url: 'http://b\u00fccher.example/\ud800', headers: { 'X-MSISDN': '447700900789' } }, // a lone surrogate in the path
  ];
  return lines.map((l, i) => {
    const parsed = parseNdjsonLine(JSON.stringify({ ts: `2012-01-12T10:00:0${i}Z`, gateway_id: 'gw', request_id: `r${i}`, ...l }));
    if (parsed.ok !== true) throw new Error(`line ${i} did not parse: ${JSON.stringify(parsed)}`);
    const d = detect(parsed.request, snapshot);
    if (d === null) throw new Error(`line ${i} discloses nothing`);
    return d;
  });
}

describe('StagingEncoder', () => {
  it('writes, row for row, the records encodeStaging writes for the protected disclosures', () => {
    const all = disclosures();
    const protector = new Protector(KEYS);
    const encoder = createBatchEncoder('duckdb-staging-ndjson', protector);
    expect(encoder).toBeInstanceOf(StagingEncoder);
    for (const d of all) encoder.add(d);
    expect(encoder.rows).toBe(all.length);
    const batch = encoder.take();
    expect(encoder.rows).toBe(0);
    const reference = encodeStaging(all.map((d) => protector.toStored(d)));
    expect(batch.rows).toBe(reference.rows);
    expect(batch.encoding).toBe(reference.encoding);
    const parse = (text: string) => text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parse(batch.text)).toEqual(parse(reference.text));
    expect(parse(batch.text)[3]!['subscriber_hash']).toBeNull();
    expect(encoder.take()).toEqual({ encoding: 'duckdb-staging-ndjson', text: '', rows: 0 });
  });

  it('protects each number once per set of keys, across the encoders made with them', () => {
    const all = disclosures();
    const protector = new Protector(KEYS);
    const calls: string[] = [];
    const subscriber = protector.subscriber.bind(protector);
    protector.subscriber = (e164) => { calls.push(e164); return subscriber(e164); };
    const first = new StagingEncoder(protector);
    for (const d of all) first.add(d);
    const second = new StagingEncoder(protector); // a scan worker's next task
    for (const d of all) second.add(d);
    const numbers = new Set(all.map((d) => d.subscriber).filter((n) => n !== null));
    expect(calls.sort()).toEqual([...numbers].sort());
    expect(second.take().text).toBe(first.take().text);
    const other = new Protector({ hashKey: Buffer.alloc(32, 8), encKey: Buffer.alloc(32, 9) });
    const third = new StagingEncoder(other);
    third.add(all[0]!);
    expect(JSON.parse(third.take().text)['subscriber_hash']).toBe(other.subscriber(all[0]!.subscriber!).subscriberHash);
  });

  it('gives a batch the DuckDB store stores as the same records', async () => {
    const all = disclosures();
    const protector = new Protector(KEYS);
    const encoder = new StagingEncoder(protector);
    for (const d of all) encoder.add(d);
    const viaEncoder = await openDuckDbStore(':memory:');
    const viaRecords = await openDuckDbStore(':memory:');
    try {
      await viaEncoder.writeEncoded(encoder.take());
      await viaRecords.write(all.map((d) => protector.toStored(d)));
      const window = { from: Date.UTC(2012, 0, 1), to: Date.UTC(2012, 1, 1) };
      // Compared as the report the CLI prints: the aggregates come in DuckDB's grouping order, which a parallel GROUP BY does not fix.
      expect(buildReport(window, await viaEncoder.report(window))).toEqual(buildReport(window, await viaRecords.report(window)));
      expect(await viaEncoder.count()).toEqual({ disclosures: all.length, violations: (await viaRecords.count()).violations });
      await expect(viaEncoder.writeEncoded({ encoding: 'other' as never, text: '', rows: 0 })).rejects.toMatchObject({ code: 'INTERNAL' });
    } finally {
      await viaEncoder.close();
      await viaRecords.close();
    }
  });
});
