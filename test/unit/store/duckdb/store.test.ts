import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTRACT_DATA, describeStoreContract } from '../../../contract/store-contract.js';
import { openDuckDbStore } from '../../../../services/store/duckdb/index.js';
import { isLeakscopeError } from '../../../../services/core/errors.js';
import type { StoredDisclosure } from '../../../../services/store/types.js';

const dir = mkdtempSync(join(tmpdir(), 'leakscope-duckdb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = (): string => join(dir, `store-${++files}.duckdb`);

describeStoreContract('duckdb', () => openDuckDbStore(freshPath()), {
  openMissing: () => openDuckDbStore(`${freshPath()}.missing`, { readOnly: true }),
});

function many(n: number, prefix: string): StoredDisclosure[] {
  return Array.from({ length: n }, (_, i) => ({ ...CONTRACT_DATA[0]!, id: `${prefix}-${i}`, requestKey: `gw:${prefix}:${i}`, ts: CONTRACT_DATA[0]!.ts + i }));
}

const ALL = { from: 0, to: Date.parse('2100-01-01T00:00:00Z') };

describe('duckdb store', () => {
  it('keeps what it stored when the file is closed and opened again', async () => {
    const path = freshPath();
    const first = await openDuckDbStore(path);
    await first.write(CONTRACT_DATA);
    await first.writeMeta({ region: 'GB', keyCheck: 'k1' });
    await first.close();

    const again = await openDuckDbStore(path);
    expect(await again.count()).toEqual({ disclosures: 9, violations: 8 });
    await again.write(CONTRACT_DATA); // rescanning the same data changes nothing
    expect(await again.count()).toEqual({ disclosures: 9, violations: 8 });
    expect(await again.readMeta()).toEqual({ region: 'GB', keyCheck: 'k1' });
    await again.close();
  });

  it('keeps its file owner-only', async () => {
    const path = freshPath();
    const store = await openDuckDbStore(path);
    await store.write(CONTRACT_DATA);
    await store.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('round-trips every field of a disclosure', async () => {
    const store = await openDuckDbStore(freshPath());
    const d = CONTRACT_DATA[5]!;
    await store.write([d]);
    const rows = await store.whoSaw('x', { from: null, to: null });
    expect(rows).toEqual([]);
    const report = await store.report(ALL);
    expect(report.sites).toEqual([{
      site: d.site, hosts: [d.host], violations: 1, subscribers: 0, firstSeen: d.ts, lastSeen: d.ts,
      identifiers: expect.arrayContaining([...d.channels]), verdicts: { identifier_not_allowed: 1 },
    }]);
    await store.close();
  });

  it('stores text with quotes, newlines, non-ASCII and a lone surrogate', async () => {
    const store = await openDuckDbStore(freshPath());
    const odd = { ...CONTRACT_DATA[0]!, id: 'odd\'"\n', host: 'xn--bcher-kva.example', site: 'xn--bcher-kva.example', partnerId: 'é😀',
      path: '/a\ud800b', queryMasked: 'q="x"\r\n\u0000', channels: ['header:x-"quoted"', 'url'] };
    await store.write([odd]);
    await store.write([odd]);
    const report = await store.report(ALL);
    expect(report.sites.map((s) => [s.site, [...s.hosts], [...s.identifiers].sort()])).toEqual([
      ['xn--bcher-kva.example', ['xn--bcher-kva.example'], ['header:x-"quoted"', 'url']],
    ]);
    expect(report.totals.violations).toBe(1);
    await store.close();
  });

  it('stores a batch larger than one data chunk, and a batch with a repeated id once', async () => {
    const store = await openDuckDbStore(freshPath());
    const batch = many(5000, 'big');
    await store.write([...batch, batch[0]!, batch[4999]!]);
    expect(await store.count()).toEqual({ disclosures: 5000, violations: 5000 });
    await store.close();
  });

  it('leaves nothing of a batch that fails inside its transaction', async () => {
    const store = await openDuckDbStore(freshPath());
    await store.write(many(10, 'good'));
    // The last row breaks a NOT NULL constraint: the INSERT of the whole batch fails, as a
    // kill before COMMIT would, and the 2999 good rows before it must not be stored either.
    const broken = [...many(2999, 'half'), { ...many(1, 'bad')[0]!, host: null as unknown as string }];
    const error = await store.write(broken).catch((e: unknown) => e);
    expect(isLeakscopeError(error) && error.code).toBe('STORE_FAILED');
    expect(await store.count()).toEqual({ disclosures: 10, violations: 10 });
    // The store stays usable: the next batch goes in whole.
    await store.write(many(3000, 'half'));
    expect(await store.count()).toEqual({ disclosures: 3010, violations: 3010 });
    await store.close();
  });

  it('lets several read-only openers query the same file', async () => {
    const path = freshPath();
    const writer = await openDuckDbStore(path);
    await writer.write(CONTRACT_DATA);
    await writer.close();
    const a = await openDuckDbStore(path, { readOnly: true });
    const b = await openDuckDbStore(path, { readOnly: true });
    const [ra, rb] = await Promise.all([a.report(ALL), b.report(ALL)]);
    expect(ra.totals).toEqual(rb.totals);
    expect(ra.totals.violations).toBe(8);
    await expect(a.write(CONTRACT_DATA)).rejects.toThrow(/read-only/);
    await a.close();
    await b.close();
  });

  it('refuses to open a missing file read-only, naming it and what to do', async () => {
    const path = join(dir, 'missing.duckdb');
    const error = await openDuckDbStore(path, { readOnly: true }).catch((e: unknown) => e);
    expect(isLeakscopeError(error) && error.code).toBe('INPUT_UNREADABLE');
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain('leakscope scan');
  });

  it('refuses a file that is not a DuckDB database', async () => {
    const path = join(dir, 'not-a-db.duckdb');
    writeFileSync(path, 'hello, this is text\n'.repeat(300));
    const error = await openDuckDbStore(path).catch((e: unknown) => e);
    expect(isLeakscopeError(error) && error.code).toBe('INPUT_UNREADABLE');
  });

  it('logs scan runs with their counts', async () => {
    const store = await openDuckDbStore(freshPath());
    const id = await store.beginScan(['a.log', 'b.log.gz'], 1000);
    await store.finishScan(id, 2000, 'done', { lines: 5, requests: 4, disclosures: 3, violations: 2, rejected: 1 });
    expect(await store.scans()).toEqual([{
      id, inputs: ['a.log', 'b.log.gz'], startedMs: 1000, finishedMs: 2000, outcome: 'done',
      lines: 5, requests: 4, disclosures: 3, violations: 2, rejected: 1,
    }]);
    // A run that never finished (killed) is marked interrupted when the next one starts.
    const killed = await store.beginScan(['c.log'], 3000);
    await store.beginScan(['c.log'], 4000);
    expect((await store.scans()).map((s) => [s.id, s.outcome])).toEqual([[id, 'done'], [killed, 'interrupted'], [killed + 1, 'running']]);
    await store.close();
  });

  it('can be closed twice', async () => {
    const store = await openDuckDbStore(freshPath());
    await store.close();
    await store.close();
  });
});
