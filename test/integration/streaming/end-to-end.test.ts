// A log file end to end: registry publish → ship → detect --once → ClickHouse, compared with
// the incident fixture's independently computed truth; then the same logs shipped and
// detected again, and the answers must not change (no double counting). On the stack's
// ClickHouse server (18.16) and on ClickHouse in-process (chdb, a current release).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickhouseTargets } from '../support/servers.js';
import { INCIDENT, answers, cliOk, dropDatabase, readJson, streamEnv, truthAnswers, type StreamEnv } from './harness.js';

describe.each(clickhouseTargets())('streaming pipeline end to end into $name', (target) => {
  let s: StreamEnv;
  beforeAll(async () => {
    s = await streamEnv('e2e', target);
  });
  afterAll(async () => {
    if (s) await dropDatabase(s);
  });

  it('stores exactly the truth of the incident fixture, and a second ship and detect changes nothing', async () => {
    const summary = readJson<{ totals: { requests: number; rejects: number; disclosures: number } }>(join(INCIDENT, 'truth/summary.json'));
    await cliOk(s, ['registry', 'publish', join(INCIDENT, 'registry.yaml')]);
    const shipped = JSON.parse(await cliOk(s, ['ship', '--json', join(INCIDENT, 'logs')]));
    expect(shipped.requests).toBe(summary.totals.requests);
    expect(shipped.rejects).toBe(summary.totals.rejects);

    const first = JSON.parse(await cliOk(s, ['detect', '--once', '--json', '--group', 'e2e']));
    expect(first.records).toBe(summary.totals.requests);
    expect(first.disclosures).toBe(summary.totals.disclosures);
    const truth = truthAnswers();
    const got = await answers(s);
    expect(got.report).toEqual(truth.report);
    expect(got.whoSaw).toEqual(truth.whoSaw);

    // Replay: the same logs again, a fresh consumer group reading the topic from the start.
    await cliOk(s, ['ship', '--json', join(INCIDENT, 'logs')]);
    const second = JSON.parse(await cliOk(s, ['detect', '--once', '--json', '--group', 'e2e-replay']));
    expect(second.records).toBe(2 * summary.totals.requests);
    const again = await answers(s);
    expect(again.report).toEqual(truth.report);
    expect(again.whoSaw).toEqual(truth.whoSaw);
  });
});
