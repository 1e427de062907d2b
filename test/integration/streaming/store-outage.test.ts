// ClickHouse refusing writes for a while: the detector holds the batch, retries with backoff,
// commits nothing meanwhile, and stores everything once the store is back.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeakscopeError } from '../../../services/core/errors.js';
import type { DisclosureStore } from '../../../services/store/index.js';
import { withAdmin } from '../support/servers.js';
import { INCIDENT, answers, cliOk, dropDatabase, startDetector, stopDetector, streamEnv, truthAnswers, type StreamEnv } from './harness.js';

describe('a store outage', () => {
  let s: StreamEnv;
  beforeAll(async () => {
    s = await streamEnv('outage');
  });
  afterAll(async () => {
    if (s) await dropDatabase(s);
  });

  it('is waited out without a loss, and nothing is committed before it is written', async () => {
    await cliOk(s, ['registry', 'publish', join(INCIDENT, 'registry.yaml')]);
    await cliOk(s, ['ship', join(INCIDENT, 'logs')]);
    let failures = 0;
    let down = true;
    const flaky = (real: DisclosureStore): DisclosureStore => Object.assign(Object.create(real) as DisclosureStore, {
      write: async (batch: Parameters<DisclosureStore['write']>[0]) => {
        if (down) {
          failures++;
          throw new LeakscopeError('STORE_FAILED', 'ClickHouse: connection refused (injected)', { retryable: true });
        }
        return real.write(batch);
      },
    });
    const d = await startDetector(s, { settings: { groupId: 'outage', once: true, retryInitialMs: 50, retryMaxMs: 200 } }, flaky);
    const group = `outage`;
    while (failures < 5) await new Promise((r) => setTimeout(r, 20));
    const committed = await withAdmin(s.brokers, (admin) => admin.fetchOffsets({ groupId: group, topics: [`${s.prefix}gateway-requests`] }));
    expect(committed[0]!.partitions.every((p) => p.offset === '-1')).toBe(true);
    down = false;
    const end = await d.detector.done();
    await stopDetector(d);
    expect(end.kind).toBe('stopped');
    expect(failures).toBeGreaterThanOrEqual(5);
    expect((await d.metrics.insertRetries.get()).values[0]!.value).toBeGreaterThanOrEqual(5);
    const truth = truthAnswers();
    const got = await answers(s);
    expect(got.report).toEqual(truth.report);
    expect(got.whoSaw).toEqual(truth.whoSaw);
  });
});
