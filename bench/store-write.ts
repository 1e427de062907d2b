// The store's write alone (docs/benchmarks.md, "Embedded scan", fifth session): the batches a
// scan stored, encoded first, written into a fresh store one by one, with the process CPU of
// each statement of DuckDbStore.writeEncoded (DuckDB's threads included).
// Usage: node dist-bench/bench/store-write.js <store.db> [batches]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBConnection } from '@duckdb/node-api';
import { encodeStaging } from '../services/store/duckdb/staging-format.js';
import { openDuckDbStore } from '../services/store/duckdb/store.js';
import { cpuMicros } from './cpu.js';
import { BATCH, storedDisclosures } from './stored-batches.js';

async function main(): Promise<void> {
  const source = process.argv[2]!;
  const batches = Number(process.argv[3] ?? 8);
  const rows = await storedDisclosures(source, BATCH * batches);
  const encoded = Array.from({ length: batches }, (_, i) => encodeStaging(rows.slice(i * BATCH, (i + 1) * BATCH)));
  const dir = mkdtempSync(join(tmpdir(), 'store-write-'));
  const store = await openDuckDbStore(join(dir, 'store.db'));
  // Statement CPU, by the statement's first words.
  const byStatement = new Map<string, number>();
  const original = DuckDBConnection.prototype.run;
  DuckDBConnection.prototype.run = async function (this: DuckDBConnection, sql: string, ...rest: unknown[]) {
    const t = cpuMicros();
    try {
      return await (original as (...a: unknown[]) => ReturnType<typeof original>).call(this, sql, ...rest);
    } finally {
      const key = sql.replace(/\s+/g, ' ').slice(0, 48).replace(/who_saw_\d\d/g, 'who_saw_NN').replace(/subscriber_hash [<>=]+ '..'.*/, '');
      byStatement.set(key, (byStatement.get(key) ?? 0) + cpuMicros() - t);
    }
  } as typeof original;
  const t0 = cpuMicros();
  // As a scan writes: between beginScan and finishScan (which builds what beginScan deferred).
  const scanId = await store.beginScan(['bench'], Date.now());
  let n = 0;
  for (const b of encoded) {
    await store.writeEncoded(b);
    n += b.rows;
  }
  await store.finishScan(scanId, Date.now(), 'done', { lines: n, requests: n, disclosures: n, violations: 0, rejected: 0 });
  const total = cpuMicros() - t0;
  DuckDBConnection.prototype.run = original;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(`${n} rows in ${batches} batches: ${(total / n).toFixed(2)} us CPU per row`);
  for (const [k, v] of [...byStatement].sort((a, b) => b[1] - a[1])) console.log(`  ${(v / n).toFixed(2).padStart(6)} us/row  ${k}`);
}

await main();
