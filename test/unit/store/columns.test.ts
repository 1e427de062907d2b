// The one list of stored disclosure columns matches every place a disclosure is written: the
// StoredDisclosure fields, the DuckDB table, the Avro Disclosure record (ClickHouse's table is
// checked against it in test/integration/clickhouse/store.test.ts).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { CONTRACT_DATA } from '../../contract/store-contract.js';
import { avroName, DISCLOSURE_COLUMNS } from '../../../services/store/columns.js';
import { openDuckDbStore } from '../../../services/store/duckdb/index.js';
import { encodeStaging } from '../../../services/store/duckdb/staging-format.js';
import { disclosureRow } from '../../../services/store/clickhouse/rows.js';
import { fromAvroDisclosure, toAvroDisclosure } from '../../../services/avro/records.js';
import { REPO_ROOT } from '../../integration/support/servers.js';

const sample = CONTRACT_DATA[1]!;

describe('the stored disclosure columns', () => {
  it('cover every StoredDisclosure field exactly once', () => {
    expect(DISCLOSURE_COLUMNS.map((c) => c.field).sort()).toEqual(Object.keys(sample).sort());
    expect(new Set(DISCLOSURE_COLUMNS.map((c) => c.name)).size).toBe(DISCLOSURE_COLUMNS.length);
  });

  it('are the fields of the Avro Disclosure record, in order, nullable where the union has null', () => {
    const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schemas/Disclosure.avsc'), 'utf8')) as { fields: Array<{ name: string; type: unknown }> };
    expect(schema.fields.map((f) => f.name)).toEqual(DISCLOSURE_COLUMNS.map(avroName));
    for (const [i, f] of schema.fields.entries()) {
      expect(Array.isArray(f.type) && f.type.includes('null'), f.name).toBe(DISCLOSURE_COLUMNS[i]!.nullable);
    }
    expect(fromAvroDisclosure(toAvroDisclosure(sample))).toEqual(sample);
  });

  it('are the columns of the DuckDB table and of its staging batches, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lk-columns-'));
    try {
      const path = join(dir, 'c.duckdb');
      await (await openDuckDbStore(path)).close();
      const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
      const connection = await instance.connect();
      const rows = (await connection.runAndReadAll(`SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'disclosures' ORDER BY ordinal_position`)).getRowObjectsJS();
      connection.closeSync();
      instance.closeSync();
      expect(rows.map((r) => r['column_name'])).toEqual(DISCLOSURE_COLUMNS.map((c) => c.name));
      expect(rows.map((r) => r['is_nullable'] === 'YES')).toEqual(DISCLOSURE_COLUMNS.map((c) => c.nullable));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(Object.keys(JSON.parse(encodeStaging([sample]).text))).toEqual(DISCLOSURE_COLUMNS.map((c) => c.name));
  });

  it('are the keys of a ClickHouse row, with every value carried over', () => {
    const row = disclosureRow(sample);
    expect(Object.keys(row)).toEqual(DISCLOSURE_COLUMNS.map((c) => c.name));
    for (const c of DISCLOSURE_COLUMNS) expect(row[c.name], c.name).toEqual((sample as unknown as Record<string, unknown>)[c.field]);
  });
});
