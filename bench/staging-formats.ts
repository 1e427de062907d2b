// Micro-benchmark of the ways a batch can reach DuckDB's staging table (docs/benchmarks.md,
// "Embedded scan", fifth session): CPU per row in JavaScript (encoding) and in DuckDB (the
// statement that fills temp.staging), on the disclosures a scan of the incident mix stored.
// Usage: node dist-bench/bench/staging-formats.js <store.db> (a store `leakscope scan` wrote).
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, DuckDBDataChunk, VARCHAR, BIGINT, INTEGER, LIST, listValue, type DuckDBValue } from '@duckdb/node-api';
import { DISCLOSURE_COLUMNS } from '../services/store/columns.js';
import { encodeStaging } from '../services/store/duckdb/staging-format.js';
import { CREATE_STAGING, stageFromNdjson } from '../services/store/duckdb/schema.js';
import type { StoredDisclosure } from '../services/store/types.js';
import { cpuMicros } from './cpu.js';
import { BATCH, storedDisclosures } from './stored-batches.js';

function q(v: string): string {
  return v.indexOf('"') === -1 ? v : v.replaceAll('"', '""');
}
const csvRow = new Function('q', `return function (d) { return ${DISCLOSURE_COLUMNS.map((col) => {
  const v = `d.${col.field}`;
  if (col.kind === 'text[]') return `'"' + q(JSON.stringify(${v})) + '"'`;
  if (col.kind === 'time' || col.kind === 'int32') return col.nullable ? `(${v} === null ? '' : ${v})` : `${v}`;
  return col.nullable ? `(${v} === null ? '' : '"' + q(${v}) + '"')` : `'"' + q(${v}) + '"'`;
}).join(` + ',' + `)}; }`)(q) as (d: StoredDisclosure) => string;

function encodeCsv(rows: readonly StoredDisclosure[]): string {
  const lines = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) lines[i] = csvRow(rows[i]!);
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const source = process.argv[2]!;
  const rows = await storedDisclosures(source, BATCH * 2);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(CREATE_STAGING);
  const dir = mkdtempSync(join(tmpdir(), 'staging-formats-'));
  const batches = [rows.slice(0, BATCH), rows.slice(BATCH, 2 * BATCH)];
  const csvColumns = DISCLOSURE_COLUMNS.map((col) => `${col.name}: '${col.kind === 'time' ? 'BIGINT' : col.kind === 'int32' ? 'INTEGER' : 'VARCHAR'}'`).join(', ');
  const names = DISCLOSURE_COLUMNS.map((col) => col.name);
  const selectCsv = names.map((n) => (n === 'channels' ? `from_json(channels, '["VARCHAR"]') AS channels` : n)).join(', ');
  const types = DISCLOSURE_COLUMNS.map((col) => (col.kind === 'time' ? BIGINT : col.kind === 'int32' ? INTEGER : col.kind === 'text[]' ? LIST(VARCHAR) : VARCHAR));

  const ways: Record<string, (b: StoredDisclosure[]) => Promise<[number, number]>> = {
    'json + read_json': async (b) => {
      const t0 = cpuMicros();
      const text = encodeStaging(b).text;
      const t1 = cpuMicros();
      writeFileSync(join(dir, 'b.ndjson'), text);
      const t2 = cpuMicros();
      await c.run(stageFromNdjson(join(dir, 'b.ndjson')));
      return [t1 - t0, cpuMicros() - t2];
    },
    'csv + read_csv': async (b) => {
      const t0 = cpuMicros();
      const text = encodeCsv(b);
      const t1 = cpuMicros();
      writeFileSync(join(dir, 'b.csv'), text);
      const t2 = cpuMicros();
      await c.run(`INSERT INTO temp.staging SELECT ${selectCsv} FROM read_csv('${join(dir, 'b.csv')}', columns = {${csvColumns}}, header = false,
        delim = ',', quote = '"', escape = '"', nullstr = '', allow_quoted_nulls = false, auto_detect = false, strict_mode = true)`);
      return [t1 - t0, cpuMicros() - t2];
    },
    appender: async (b) => {
      const t0 = cpuMicros();
      const a = await c.createAppender('staging', null, 'temp');
      for (const d0 of b) {
        const d = d0 as unknown as Record<string, unknown>;
        for (const col of DISCLOSURE_COLUMNS) {
          const v = d[col.field];
          if (v === null) a.appendNull();
          else if (col.kind === 'time') a.appendBigInt(BigInt(v as number));
          else if (col.kind === 'int32') a.appendInteger(v as number);
          else if (col.kind === 'text[]') a.appendList(listValue(v as string[]), LIST(VARCHAR));
          else a.appendVarchar(v as string);
        }
        a.endRow();
      }
      const t1 = cpuMicros();
      a.flushSync();
      a.closeSync();
      return [t1 - t0, cpuMicros() - t1];
    },
    'data chunk': async (b) => {
      const t0 = cpuMicros();
      const a = await c.createAppender('staging', null, 'temp');
      for (let at = 0; at < b.length; at += 2048) {
        const part = b.slice(at, at + 2048);
        const chunk = DuckDBDataChunk.create(types, part.length);
        const columns: DuckDBValue[][] = DISCLOSURE_COLUMNS.map((col) => part.map((d0) => {
          const v = (d0 as unknown as Record<string, unknown>)[col.field];
          return v === null ? null : col.kind === 'time' ? BigInt(v as number) : col.kind === 'text[]' ? listValue(v as string[]) : (v as DuckDBValue);
        }));
        chunk.setColumns(columns);
        a.appendDataChunk(chunk);
      }
      const t1 = cpuMicros();
      a.flushSync();
      a.closeSync();
      return [t1 - t0, cpuMicros() - t1];
    },
  };
  for (let round = 0; round < 3; round++) {
    for (const [name, way] of Object.entries(ways)) {
      let js = 0, duck = 0, n = 0;
      for (const b of batches) {
        const [j, d] = await way(b);
        js += j; duck += d; n += b.length;
        const check = await c.runAndReadAll('SELECT count(*)::INTEGER AS n FROM temp.staging');
        if (check.getRowObjectsJS()[0]!['n'] !== b.length) throw new Error(`${name}: staged ${String(check.getRowObjectsJS()[0]!['n'])} of ${b.length}`);
        await c.run('DELETE FROM temp.staging');
      }
      console.log(`round ${round} ${name.padEnd(18)} JS ${(js / n).toFixed(2)} us/row  DuckDB ${(duck / n).toFixed(2)} us/row  total ${((js + duck) / n).toFixed(2)}`);
    }
  }
}

await main();
