// The log reader with profiles: byte ranges of a CSV file read with its header row (as scan
// workers read big files), and the batches' not-forwarded counts and unread fields.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtInProfile } from '../../../services/core/parse/index.js';
import { readLogRange, readLogs, type LogBatch } from '../../../services/files/index.js';

const dir = mkdtempSync(join(tmpdir(), 'leakscope-logs-formats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(batches: AsyncIterable<LogBatch>): Promise<LogBatch[]> {
  const out: LogBatch[] = [];
  for await (const b of batches) out.push(b);
  return out;
}

const HEADER = 'ts,request_id,url,action,extra';
const row = (i: number): string => `2012-01-10T09:31:${String(i % 60).padStart(2, '0')}Z,${i},http://h${i}.example/,${i % 5 === 0 ? 'DENIED' : 'OK'},x`;

describe('readLogRange and readLogs with a CSV profile', () => {
  const profile = { ...builtInProfile('csv'), notForwarded: [{ field: 'action', values: ['DENIED'] }] };
  const path = join(dir, 'export.csv');
  writeFileSync(path, [HEADER, ...Array.from({ length: 200 }, (_, i) => row(i))].join('\n') + '\n');

  it('reads every row exactly once whatever the cuts, each range with the file\'s header row', async () => {
    const whole = await collect(readLogs([path], { format: 'auto', profile, batchLines: 64 }));
    const ids = (bs: LogBatch[]): string[] => bs.flatMap((b) => b.requests.map((r) => r.requestId!));
    const size = (await import('node:fs')).statSync(path).size;
    const cuts = [0, 1000, 5555, size];
    const parts: LogBatch[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) parts.push(...await collect(readLogRange(path, { format: 'auto', profile, start: cuts[i]!, end: cuts[i + 1]! })));
    expect(ids(parts)).toEqual(ids(whole));
    expect(ids(whole)).toHaveLength(160);
    const count = (bs: LogBatch[], key: 'notForwarded'): number => bs.reduce((n, b) => n + b[key], 0);
    expect([count(whole, 'notForwarded'), count(parts, 'notForwarded')]).toEqual([40, 40]);
    expect(parts.flatMap((b) => b.rejects)).toEqual([]);
  });

  it('lists the unread columns once per file, in the first batch', async () => {
    const batches = await collect(readLogs([path, path], { format: 'auto', profile, batchLines: 64 }));
    expect(batches.map((b) => b.unreadFields).filter((u) => u.length > 0)).toEqual([['extra'], ['extra']]);
  });

  it('refuses a format that disagrees with the profile', () => {
    expect(() => readLogs([path], { format: 'w3c', profile })).toThrow(/disagree/);
  });
});
