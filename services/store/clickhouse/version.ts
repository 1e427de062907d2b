// The server's version, for the few places that must know it (the migration runner refuses
// servers older than the SQL is tested on; a future feature newer than 18.16 must check it).
import { LeakscopeError } from '../../core/errors.js';
import type { ClickHouseConnection } from './client.js';
import { sql } from './literal.js';

export interface ClickHouseVersion {
  /** As the server says it: `18.16.1`, `24.8.4.13`. */
  text: string;
  major: number;
  minor: number;
  patch: number;
}

export function parseVersion(text: string): ClickHouseVersion {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  if (!m) throw new LeakscopeError('STORE_FAILED', `ClickHouse reported version ${JSON.stringify(text)}, which cannot be read`);
  return { text: text.trim(), major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

/** True when the server is at least major.minor. */
export function versionAtLeast(v: ClickHouseVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

export async function clickhouseVersionOf(connection: ClickHouseConnection): Promise<ClickHouseVersion> {
  const rows = await connection.rows<{ v: string }>(sql`SELECT version() AS v`);
  return parseVersion(rows[0]?.v ?? '');
}
