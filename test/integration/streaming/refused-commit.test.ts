// The detector's rewind when the broker refuses an offset commit. Between a batch's write and
// its commit the detector stalls longer than its session timeout (its event loop blocked, as a
// long GC pause or a starved CPU would), so the real broker drops it from the group and refuses
// the commit (the member is unknown). The detector must not commit past the batch it could not
// commit: it goes back to the batch, rejoins, reads and writes it again, and ends with the
// truth exactly (nothing lost, nothing counted twice) and every offset committed.
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Detector } from '../../../services/detector/index.js';
import { topicNames } from '../../../services/kafka/index.js';
import { createLogger, createMetrics } from '../../../services/observability/index.js';
import { openClickHouseStore } from '../../../services/store/clickhouse/index.js';
import { withAdmin } from '../support/servers.js';
import { FAST_GROUP, INCIDENT, KEYS, answers, cliOk, dropDatabase, streamEnv, truthAnswers, type StreamEnv } from './harness.js';

interface LogLine { msg: string; partition?: number; first_offset?: string; last_offset?: string; err?: string }

describe('an offset commit refused by the broker', () => {
  let s: StreamEnv;
  beforeAll(async () => {
    s = await streamEnv('refusedcommit');
  });
  afterAll(async () => {
    if (s) await dropDatabase(s);
  });

  it('rewinds to the batch it could not commit, reads and writes it again, and ends with the truth and every offset committed', async () => {
    await cliOk(s, ['registry', 'publish', join(INCIDENT, 'registry.yaml')]);
    await cliOk(s, ['ship', join(INCIDENT, 'logs')]);
    const group = 'refusedcommit';
    const lines: LogLine[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString('utf8').split('\n')) if (l.startsWith('{')) lines.push(JSON.parse(l) as LogLine);
        cb();
      },
    });
    const stalledFor = FAST_GROUP.sessionTimeoutMs + 4000;
    let stalled: { partition: number; lastOffset: string } | null = null;
    const store = await openClickHouseStore(s.clickhouseUrl);
    const detector = new Detector({
      brokers: s.brokers, topics: topicNames(s.prefix), store, keys: KEYS,
      logger: createLogger({ level: 'info', destination }), metrics: createMetrics({ processMetrics: false }),
      settings: { ...FAST_GROUP, groupId: group, once: true, partitionsConsumedConcurrently: 1 },
      afterWriteForTest: (info) => {
        if (stalled !== null || info.written === 0) return;
        stalled = { partition: info.partition, lastOffset: info.lastOffset };
        // Blocks everything, heartbeats included: the broker's session for this member expires.
        const until = Date.now() + stalledFor;
        while (Date.now() < until) { /* stalled */ }
      },
    });
    try {
      await detector.start();
      const end = await detector.done();
      expect(end).toEqual({ kind: 'stopped' });
    } finally {
      await detector.stop();
      await store.close();
    }

    expect(stalled).not.toBeNull();
    const { partition, lastOffset } = stalled!;
    // The commit after the stall was refused by the broker, and said so.
    const refused = lines.filter((l) => l.msg === 'commit failed; the batch will be read again');
    expect(refused.map((l) => l.partition)).toContain(partition);
    expect(refused.find((l) => l.partition === partition)!.err).toMatch(/member|generation|rebalanc/i);
    // The batch was read and written again after the refusal: a batch of that partition holding
    // its last offset was written and committed later.
    const refusedAt = lines.indexOf(refused.find((l) => l.partition === partition)!);
    const rewritten = lines.slice(refusedAt).filter((l) => l.msg === 'batch written' && l.partition === partition
      && BigInt(l.first_offset!) <= BigInt(lastOffset) && BigInt(l.last_offset!) >= BigInt(lastOffset));
    expect(rewritten.length).toBeGreaterThan(0);
    // Nothing written before the refusal was committed past what was refused.
    const before = lines.slice(0, refusedAt).filter((l) => l.msg === 'batch written' && l.partition === partition);
    expect(before.every((l) => BigInt(l.last_offset!) < BigInt(lastOffset))).toBe(true);

    // Every offset committed, to the end of each partition.
    const [ends, committed] = await withAdmin(s.brokers, async (admin) => [
      await admin.fetchTopicOffsets(`${s.prefix}gateway-requests`),
      await admin.fetchOffsets({ groupId: group, topics: [`${s.prefix}gateway-requests`] }),
    ] as const);
    const committedBy = new Map(committed[0]!.partitions.map((p) => [p.partition, p.offset]));
    expect(ends.map((e) => [e.partition, committedBy.get(e.partition)])).toEqual(ends.map((e) => [e.partition, e.high]));

    // Nothing lost, nothing counted twice.
    const truth = truthAnswers();
    const got = await answers(s);
    expect(got.report).toEqual(truth.report);
    expect(got.whoSaw).toEqual(truth.whoSaw);
  }, 180_000);
});
