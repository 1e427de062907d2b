// The audit trail of the ClickHouse store: table `audit_log` (migration 2), one row per
// entry holding the entry's JSON line. Appends of this process are serialised, each reading
// the last entry first; `audit verify` reads the rows in sequence order.
import { LeakscopeError } from '../../core/errors.js';
import { formatEntry, nextEntry, parseEntry, type AuditDraft, type AuditEntry } from '../../audit/entry.js';
import type { AuditTrail } from '../types.js';
import type { ClickHouseConnection } from './client.js';
import { int, qualified, sql, str } from './literal.js';

export class ClickHouseAuditTrail implements AuditTrail {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly ch: ClickHouseConnection, private readonly now: () => number = Date.now) {}

  get location(): string {
    return `ClickHouse table ${this.ch.config.database}.audit_log`;
  }

  append(draft: AuditDraft): Promise<AuditEntry> {
    const run = () => this.appendNow(draft);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async appendNow(draft: AuditDraft): Promise<AuditEntry> {
    const table = qualified(this.ch.config.database, 'audit_log');
    try {
      const [last] = await this.ch.rows<{ line: string }>(sql`SELECT line FROM ${table} ORDER BY seq DESC LIMIT 1`);
      const previous = last === undefined ? null : parseEntry(last.line);
      if (last !== undefined && previous === null) {
        throw new LeakscopeError('AUDIT_FAILED', `${this.location}: its last row is not an audit entry; run leakscope audit verify. The answer was not given`);
      }
      const entry = nextEntry(previous, draft, this.now());
      await this.ch.command(sql`INSERT INTO ${table} (seq, at_ms, line) VALUES (${int(entry.seq)}, ${int(Date.parse(entry.at))}, ${str(formatEntry(entry))})`);
      return entry;
    } catch (cause) {
      if (cause instanceof LeakscopeError && cause.code === 'AUDIT_FAILED') throw cause;
      throw new LeakscopeError('AUDIT_FAILED', `${this.location}: the audit entry could not be written (${(cause as Error).message}); the answer was not given`,
        { cause, retryable: cause instanceof LeakscopeError && cause.retryable });
    }
  }

  async lines(): Promise<string[]> {
    // Stored order is insertion order within a seq too (a fork shows as two rows of one seq).
    const rows = await this.ch.rows<{ line: string }>(sql`SELECT line FROM ${qualified(this.ch.config.database, 'audit_log')} ORDER BY seq, at_ms`);
    return rows.map((r) => r.line);
  }
}
