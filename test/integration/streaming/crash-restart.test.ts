// A detector killed between the ClickHouse insert and the offset commit: its batch is in the
// store but not committed. Restarted in the same group, it reads the batch again, and the
// answers still equal the truth: nothing lost, nothing counted twice.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAdmin } from '../support/servers.js';
import { INCIDENT, answers, cliOk, dropDatabase, readJson, startDetector, stopDetector, streamEnv, truthAnswers, type StreamEnv } from './harness.js';

describe('a detector crash between write and commit', () => {
  let s: StreamEnv;
  beforeAll(async () => {
    s = await streamEnv('crash');
  });
  afterAll(async () => {
    if (s) await dropDatabase(s);
  });

  it('is restarted without a duplicate or a loss in the answers', async () => {
    const summary = readJson<{ totals: { requests: number } }>(join(INCIDENT, 'truth/summary.json'));
    await cliOk(s, ['registry', 'publish', join(INCIDENT, 'registry.yaml')]);
    await cliOk(s, ['ship', join(INCIDENT, 'logs')]);

    let crashed: { partition: number; lastOffset: string; written: number } | null = null;
    const first = await startDetector(s, {
      settings: { groupId: 'crashy', once: true, partitionsConsumedConcurrently: 1 },
      afterWriteForTest: (info) => {
        if (info.written === 0) return;
        crashed = info;
        throw new Error('crash injected after store.write, before commit');
      },
    });
    const end = await first.detector.done();
    await stopDetector(first);
    expect(end.kind).toBe('failed');
    expect(crashed).not.toBeNull();
    const c = crashed!;

    // The crashed batch is in ClickHouse, and its offsets are not committed.
    const committed = await withAdmin(s.brokers, (admin) => admin.fetchOffsets({ groupId: 'crashy', topics: [`${s.prefix}gateway-requests`] }));
    const offset = BigInt(committed[0]!.partitions.find((p) => p.partition === c.partition)!.offset);
    expect(offset).toBeLessThanOrEqual(BigInt(c.lastOffset));
    const partial = await answers(s);
    expect((partial.report as { totals: { violations: number } }).totals.violations).toBeGreaterThan(0);

    const second = JSON.parse(await cliOk(s, ['detect', '--once', '--json', '--group', 'crashy']));
    expect(second.records).toBeGreaterThan(0);
    expect(second.records).toBeLessThanOrEqual(summary.totals.requests);
    const truth = truthAnswers();
    const got = await answers(s);
    expect(got.report).toEqual(truth.report);
    expect(got.whoSaw).toEqual(truth.whoSaw);
  });
});
