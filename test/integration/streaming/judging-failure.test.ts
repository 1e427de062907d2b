// The detector's rewind when a batch fails between its judging and its write (its alerts not
// sent) while the next batch of the same partition is already taken and judged behind it:
// eachBatch returns before a batch is judged, so batch N+1 is fetched and judged while N is
// still on its way. Nothing after N may be committed; N and N+1 are read again, from N's first
// offset, and each is written and stored once.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AvroCodec } from '../../../services/avro/index.js';
import { StreamProducer, createKafkaClient, topicNames } from '../../../services/kafka/index.js';
import { silentLogger } from '../../../services/observability/index.js';
import type { DisclosureStore } from '../../../services/store/index.js';
import { withAdmin } from '../support/servers.js';
import { INCIDENT, cliOk, dropDatabase, leak, startDetector, stopDetector, streamEnv, waitFor, type StreamEnv } from './harness.js';

describe('a batch whose alerts fail while the next batch is queued behind it', () => {
  let s: StreamEnv;
  beforeAll(async () => {
    s = await streamEnv('judgefail');
  });
  afterAll(async () => {
    if (s) await dropDatabase(s);
  });

  it('commits nothing after it, reads both batches again from its first offset, and stores each once', async () => {
    await cliOk(s, ['registry', 'publish', join(INCIDENT, 'registry.yaml')]);
    const topics = topicNames(s.prefix);
    const group = 'judgefail';
    const raised: Array<{ firstOffset: string; lastOffset: string }> = [];
    const writes: string[] = [];
    const commitsSeen: string[] = [];
    let failed = false;
    let nextJudged!: () => void;
    const nextIsJudged = new Promise<void>((resolve) => { nextJudged = resolve; });
    const counting = (real: DisclosureStore): DisclosureStore => Object.assign(Object.create(real) as DisclosureStore, {
      write: async (batch: Parameters<DisclosureStore['write']>[0]) => {
        for (const d of batch) writes.push(d.site);
        await real.write(batch);
      },
    });
    const d = await startDetector(s, {
      settings: { groupId: group, retryInitialMs: 50 },
      beforeRaiseForTest: async (info) => {
        raised.push({ firstOffset: info.firstOffset, lastOffset: info.lastOffset });
        if (failed) return;
        if (info.firstOffset === '0') {
          // Batch N: held until batch N+1 is judged behind it, then its alerts fail.
          await nextIsJudged;
          failed = true;
          throw new Error('the alerts of batch N could not be sent (test)');
        }
        nextJudged();
      },
      onBatchTimes: (t) => { commitsSeen.push(`${t.partition}:${t.records}`); },
    }, counting);
    const kafka = createKafkaClient({ brokers: s.brokers, clientId: 'test-judgefail', logger: silentLogger() });
    const producer = new StreamProducer(kafka, new AvroCodec());
    await producer.connect();
    try {
      await producer.send([{ topic: topics.requests, messages: producer.requestMessages([leak('first-n.example', 0)]) }]);
      await waitFor('batch N judged', () => raised.length >= 1);
      await producer.send([{ topic: topics.requests, messages: producer.requestMessages([leak('next-n1.example', 1)]) }]);
      const partitionOf = async (): Promise<number> => {
        const offsets = await withAdmin(s.brokers, (admin) => admin.fetchTopicOffsets(topics.requests));
        return offsets.find((o) => o.high !== '0')!.partition;
      };
      await waitFor(() => `both records committed (raised ${JSON.stringify(raised)}, committed batches ${JSON.stringify(commitsSeen)})`, async () => {
        const committed = await withAdmin(s.brokers, (admin) => admin.fetchOffsets({ groupId: group, topics: [topics.requests] }));
        return committed[0]!.partitions.some((p) => p.offset === '2');
      });
      const partition = await partitionOf();

      // N+1 was judged while N was still held (the overlap), then N failed.
      expect(raised.slice(0, 2)).toEqual([{ firstOffset: '0', lastOffset: '0' }, { firstOffset: '1', lastOffset: '1' }]);
      expect(failed).toBe(true);
      // Read again from N's first offset: offsets 0 and 1 judged again after the failure.
      const again = raised.slice(2);
      expect(again[0]!.firstOffset).toBe('0');
      expect(again.some((r) => BigInt(r.lastOffset) >= 1n)).toBe(true);
      // Nothing was committed before N: every committed batch was of the rereading, and together they are the two records.
      expect(commitsSeen.every((c) => c.startsWith(`${partition}:`))).toBe(true);
      expect(commitsSeen.reduce((n, c) => n + Number(c.split(':')[1]), 0)).toBe(2);
      // Each written once, and stored once.
      expect(writes.sort()).toEqual(['first-n.example', 'next-n1.example']);
      expect(await d.store.alertedSites()).toEqual(['first-n.example', 'next-n1.example']);
      expect(d.detector.totals.records).toBe(2);
      expect(d.detector.totals.disclosures).toBe(2);
    } finally {
      nextJudged();
      await producer.disconnect();
      await stopDetector(d);
    }
  }, 120_000);
});
