// The rejects output of a scan: every line that could not be read, as NDJSON
// {source, line, reason, raw}. Appended, never truncated, so no reject of an earlier scan
// is lost; owner-only because raw lines hold subscribers' numbers, and opened through the
// shared safe open (never through a symlink, never another user's file: README "File safety").
import type { FileHandle } from 'node:fs/promises';
import { LeakscopeError } from '../core/errors.js';
import { openForWriting } from '../files/safe-file.js';
import type { RejectRecord } from '../core/types.js';
import { safeJson } from '../core/visible-text.js';

const REJECTS_CHUNK_CHARS = 8 * 2 ** 20;

export class RejectsFile {
  private handle: FileHandle | null = null;
  written = 0;

  constructor(readonly path: string) {}

  /** Opens (creating) the file now, so a path that cannot be written is refused before scanning. */
  async open(): Promise<void> {
    this.handle = await openForWriting(this.path, { mode: 'append', purpose: 'the rejects file' });
  }

  async append(rejects: readonly RejectRecord[]): Promise<void> {
    if (rejects.length === 0) return;
    if (this.handle === null) await this.open();
    try {
      // Written in chunks of bounded size: a store batch may hold tens of thousands of rejects
      // of up to 1 MiB each, more than one string can hold.
      let chunk = '';
      for (const r of rejects) {
        // Control and bidi characters of a raw line as JSON escapes: the line reads back as it was.
        chunk += safeJson({ source: r.source, line: r.line, reason: r.reason, raw: r.raw }) + '\n';
        if (chunk.length >= REJECTS_CHUNK_CHARS) {
          await this.handle!.appendFile(chunk, 'utf8');
          chunk = '';
        }
      }
      if (chunk !== '') await this.handle!.appendFile(chunk, 'utf8');
    } catch (cause) {
      throw new LeakscopeError('STORE_FAILED', `cannot write to the rejects file ${this.path}: ${(cause as Error).message}`, { cause });
    }
    this.written += rejects.length;
  }

  /** Flushes to disk and closes; safe to call twice. */
  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    if (handle === null) return;
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
