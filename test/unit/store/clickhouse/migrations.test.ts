// A migration once released is never edited: a database migrated by an older leakscope would
// silently differ from a new one. Each released migration's SQL is pinned by its SHA-256; a new
// migration is appended with a new version, and its checksum added here when it is released.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LATEST_VERSION, MIGRATIONS } from '../../../../services/store/clickhouse/index.js';

/** version → SHA-256 of its statements for database `leakscope`, joined by ";\n". */
const RELEASED: Readonly<Record<number, string>> = {
  1: '53095a1d2e9aed17be26d3b87fde0bc8de1bd9be095af358637ff568de9ec830',
  2: '323957f0a314e8504fb5be9a7806d998a9121f1debf064dd24be23da0a5115db', // audit_log
  3: 'afc379eb97bdf81339382a120fdbffaa8a520c29e909c858958d32867776c712', // alerts
};

function checksum(version: number): string {
  const migration = MIGRATIONS.find((m) => m.version === version)!;
  return createHash('sha256').update(migration.statements('leakscope').map((s) => s.text).join(';\n')).digest('hex');
}

describe('ClickHouse migrations', () => {
  it.each(Object.keys(RELEASED).map(Number))('released migration %i is unchanged', (version) => {
    expect(MIGRATIONS.some((m) => m.version === version)).toBe(true);
    expect(checksum(version)).toBe(RELEASED[version]);
  });

  it('are numbered 1, 2, … in order, the last one the latest', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(LATEST_VERSION).toBe(MIGRATIONS.length);
  });

  it('name their database only through the argument', () => {
    for (const m of MIGRATIONS) {
      const mine = m.statements('lk_other_db').map((s) => s.text).join('\n');
      expect(mine).not.toContain('leakscope');
      expect(mine).toBe(m.statements('leakscope').map((s) => s.text).join('\n').replaceAll('leakscope', 'lk_other_db'));
    }
  });
});
