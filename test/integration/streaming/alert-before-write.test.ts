// The detector's alert path does not wait for the store: while one batch's insert is held
// (a store that does not answer yet), the next records are fetched, judged and their alert
// raised; nothing is committed until the held insert is done, the writes keep offset order,
// and once the store answers everything is stored and committed.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AvroCodec } from '../../../services/avro/index.js';
import type { GatewayRequest } from '../../../services/core/types.js';
import { StreamProducer, createKafkaClient, topicNames } from '../../../services/kafka/index.js';
import { silentLogger } from '../../../services/observability/index.js';
import type { DisclosureStore } from '../../../services/store/index.js';
import { withAdmin } from '../support/servers.js';
import { INCIDENT, cliOk, dropDatabase, startDetector, stopDetector, streamEnv, type StreamEnv } from './harness.js';

function leak(site: string, n: number): GatewayRequest {
  // One subscriber: the same key, so the same partition, behind one another.
  const msisdn = '447700900123';
  return { ts: Date.parse('2012-01-10T10:00:00Z') + n, requestKey: `gw-t:${site}`, gatewayId: 'gw-t', requestId: site, msisdn, bearer: '3g', clientIp: '10.0.0.1', method: 'GET', scheme: 'http', host: `www.${site}`, port: 80, path: '/', query: '', headers: [['host', `www.${site}`], ['x-up-calling-line-id', msisdn]], status: 200, bytes: 1 };
}

async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the detector with an insert held', () => {
  let s: StreamEnv;
  beforeAll(async () => {
    s = await streamEnv('heldwrite');
  });
  afterAll(async () => {
    if (s) await dropDatabase(s);
  });

  it('raises the next batch\'s alert meanwhile, commits nothing until the insert is done, and then stores and commits both', async () => {
    await cliOk(s, ['registry', 'publish', join(INCIDENT, 'registry.yaml')]);
    const events: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const holding = (real: DisclosureStore): DisclosureStore => Object.assign(Object.create(real) as DisclosureStore, {
      write: async (batch: Parameters<DisclosureStore['write']>[0]) => {
        const sites = [...new Set(batch.map((d) => d.site))].join(',');
        events.push(`write ${sites}`);
        if (sites === 'held-a.example') await held;
        await real.write(batch);
        events.push(`written ${sites}`);
      },
    });
    const d = await startDetector(s, { settings: { groupId: 'heldwrite' }, onBatchTimes: (t) => { for (const a of t.alerts) events.push(`committed alert ${a.site}`); } }, holding);
    const kafka = createKafkaClient({ brokers: s.brokers, clientId: 'test-heldwrite', logger: silentLogger() });
    const producer = new StreamProducer(kafka, new AvroCodec());
    await producer.connect();
    try {
      const topics = topicNames(s.prefix);
      await producer.send([{ topic: topics.requests, messages: producer.requestMessages([leak('held-a.example', 0)]) }]);
      await until('the first insert is held', () => events.includes('write held-a.example'));
      await producer.send([{ topic: topics.requests, messages: producer.requestMessages([leak('next-b.example', 1)]) }]);
      await until('the second alert is raised', () => d.detector.totals.alerts >= 2);

      // Both alerts out, the first insert still held: the second batch waits behind it, unwritten and uncommitted.
      expect(events).toEqual(['write held-a.example']);
      const committed = await withAdmin(s.brokers, (admin) => admin.fetchOffsets({ groupId: 'heldwrite', topics: [topics.requests] }));
      expect(committed[0]!.partitions.every((p) => p.offset === '-1')).toBe(true);
      expect((await d.metrics.alerts.get()).values.find((v) => v.labels.kind === 'first_disclosure')?.value).toBe(2);

      release();
      await until('both batches committed', () => events.includes('committed alert next-b.example'));
      expect(events).toEqual(['write held-a.example', 'written held-a.example', 'committed alert held-a.example', 'write next-b.example', 'written next-b.example', 'committed alert next-b.example']);
      const after = await withAdmin(s.brokers, (admin) => admin.fetchOffsets({ groupId: 'heldwrite', topics: [topics.requests] }));
      expect(after[0]!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0)).toBe(2);
      expect(await d.store.alertedSites()).toEqual(['held-a.example', 'next-b.example']);
    } finally {
      release();
      await producer.disconnect();
      await stopDetector(d);
    }
  });
});
