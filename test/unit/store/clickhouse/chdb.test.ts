import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chdbDir, migrateClickHouse, openClickHouseStore } from '../../../../services/store/clickhouse/index.js';
import { run } from '../../cli/query-fixture.js';

describe('chdb: store URLs without chdb installed', () => {
  const saved = process.env.LEAKSCOPE_CHDB_DIR;
  let empty: string;
  beforeAll(() => {
    empty = mkdtempSync(join(tmpdir(), 'leakscope-no-chdb-'));
    process.env.LEAKSCOPE_CHDB_DIR = empty;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.LEAKSCOPE_CHDB_DIR;
    else process.env.LEAKSCOPE_CHDB_DIR = saved;
    rmSync(empty, { recursive: true, force: true });
  });

  it('are refused with the command that installs it', async () => {
    for (const attempt of [openClickHouseStore(`chdb:${empty}/data`), migrateClickHouse(`chdb:${empty}/data`)]) {
      const err = await attempt.catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
      expect((err as Error).message).toContain(`not installed in ${empty}`);
      expect((err as Error).message).toContain('bash deploy/local/stack provision');
    }
  });

  it('make a query command exit 2 with that message', async () => {
    const r = await run(['report', '--from', '2012-01-10', '--to', '2012-01-11', '--clickhouse', `chdb:${empty}/data`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/chdb.*not installed.*stack provision/);
  });
});

describe('chdbDir', () => {
  it('is LEAKSCOPE_CHDB_DIR, else chdb/ under the stack state, else under the repository', () => {
    expect(chdbDir({ LEAKSCOPE_CHDB_DIR: '/opt/chdb', LEAKSCOPE_STACK_STATE: '/s' })).toBe('/opt/chdb');
    expect(chdbDir({ LEAKSCOPE_STACK_STATE: '/s' })).toBe('/s/chdb');
    expect(chdbDir({})).toMatch(/deploy\/local\/\.state\/chdb$/);
  });
});
