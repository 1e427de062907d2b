// Two detector instances in one consumer group share the partitions of gateway-requests;
// together they store each request once.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INCIDENT, answers, cliOk, dropDatabase, readJson, startDetector, stopDetector, streamEnv, truthAnswers, waitFor, type RunningDetector, type StreamEnv } from './harness.js';

describe('two detectors in one group', () => {
  let s: StreamEnv;
  const running: RunningDetector[] = [];
  beforeAll(async () => {
    s = await streamEnv('group');
  });
  afterAll(async () => {
    for (const d of running) await stopDetector(d);
    if (s) await dropDatabase(s);
  });

  it('split the partitions and store the truth with no double counting', async () => {
    const summary = readJson<{ totals: { requests: number } }>(join(INCIDENT, 'truth/summary.json'));
    await cliOk(s, ['registry', 'publish', join(INCIDENT, 'registry.yaml')]);
    running.push(await startDetector(s, { clientId: 'det-1', settings: { groupId: 'pair' } }));
    running.push(await startDetector(s, { clientId: 'det-2', settings: { groupId: 'pair' } }));
    const partitionsOf = (d: RunningDetector) => d.detector.health().details.partitions as number[];
    await waitFor('both instances assigned partitions', () => running.every((d) => partitionsOf(d).length === 2));
    expect([...partitionsOf(running[0]!), ...partitionsOf(running[1]!)].sort()).toEqual([0, 1, 2, 3]);

    await cliOk(s, ['ship', join(INCIDENT, 'logs')]);
    await waitFor('every request processed', () => running.reduce((n, d) => n + d.detector.totals.records, 0) >= summary.totals.requests);
    expect(running.every((d) => d.detector.totals.records > 0)).toBe(true);
    expect(running.reduce((n, d) => n + d.detector.totals.records, 0)).toBe(summary.totals.requests);

    const truth = truthAnswers();
    const got = await answers(s);
    expect(got.report).toEqual(truth.report);
    expect(got.whoSaw).toEqual(truth.whoSaw);
  });
});
