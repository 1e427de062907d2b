// The detection core against the incident fixture's ground truth, which the generator
// computed from what it put into each request (not by running the detector).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detect } from '../../../services/core/detect/index.js';
import { buildSnapshot } from '../../../services/core/registry/index.js';
import { readLogs, readRegistryFile } from '../../../services/files/index.js';
import type { Disclosure } from '../../../services/core/types.js';

const FIXTURE = join(import.meta.dirname, '../../fixtures/incident');

interface TruthRow {
  request_key: string;
  host: string;
  site: string;
  subscriber: string | null;
  channels: string[];
  verdict: string;
  partner: string | null;
}

describe('the detection core on the incident fixture', () => {
  it('finds exactly the disclosures of the ground truth, with their channels, sites, subscribers and verdicts', async () => {
    const snapshot = buildSnapshot(await readRegistryFile(join(FIXTURE, 'registry.yaml')));
    const logs = ['gw-lon-01.ndjson', 'gw-man-02.log', 'gw-gla-03.ndjson.gz'].map((f) => join(FIXTURE, 'logs', f));
    const found = new Map<string, Disclosure>();
    let rejected = 0;
    let disclosing = 0;
    for await (const batch of readLogs(logs, { format: 'auto' })) {
      rejected += batch.rejects.length;
      for (const request of batch.requests) {
        const d = detect(request, snapshot);
        if (d) {
          disclosing++;
          found.set(d.id, d);
        }
      }
    }
    const truth = readFileSync(join(FIXTURE, 'truth/disclosures.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TruthRow);
    const summary = JSON.parse(readFileSync(join(FIXTURE, 'truth/summary.json'), 'utf8'));
    // The truth names a request by its request_id; the parser's key is `gateway_id:request_id`.
    const project = (d: Disclosure): TruthRow => ({
      request_key: d.requestKey.slice(`${d.gatewayId}:`.length), host: d.host, site: d.site, subscriber: d.subscriber, channels: [...d.channels],
      verdict: d.verdict, partner: d.partnerId,
    });
    const expected = truth.map((t) => ({
      request_key: t.request_key, host: t.host, site: t.site, subscriber: t.subscriber, channels: t.channels,
      verdict: t.verdict, partner: t.partner,
    })).sort((a, b) => a.request_key.localeCompare(b.request_key));
    const actual = [...found.values()].map(project).sort((a, b) => a.request_key.localeCompare(b.request_key));
    expect(actual).toEqual(expected);
    expect(rejected).toBe(summary.totals.rejects);
    expect(found.size).toBe(disclosing); // no two disclosures share an id
  });
});
