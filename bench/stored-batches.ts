// What the store micro-benchmarks (staging-formats.ts, store-write.ts) share: the disclosures a
// scan stored, read back from its store file in time order.
import { DuckDBInstance } from '@duckdb/node-api';
import { DISCLOSURE_COLUMNS } from '../services/store/columns.js';
import type { StoredDisclosure } from '../services/store/types.js';

/** Rows per batch, as a scan writes them. */
export const BATCH = 16_384;

/** The first `limit` disclosures of the store at `path`, by time, as the store's writer takes them. */
export async function storedDisclosures(path: string, limit: number): Promise<StoredDisclosure[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    await c.run(`ATTACH '${path.replaceAll("'", "''")}' AS src (READ_ONLY)`);
    const reader = await c.runAndReadAll(`SELECT * FROM src.disclosures ORDER BY ts_ms LIMIT ${limit}`);
    return reader.getRowObjectsJS().map((r) => {
      const d: Record<string, unknown> = {};
      for (const col of DISCLOSURE_COLUMNS) d[col.field] = col.kind === 'time' ? Number(r[col.name]) : r[col.name];
      return d as unknown as StoredDisclosure;
    });
  } finally {
    c.closeSync();
    db.closeSync();
  }
}
