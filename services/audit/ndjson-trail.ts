// The audit trail of the embedded store: `<db>.audit.ndjson`, one entry per line, next to the
// DuckDB file. Owner-only (0600), opened with O_APPEND so a write can only add to the end,
// and O_NOFOLLOW so a planted symbolic link is not followed. Appends from several processes
// (a `serve` and a CLI `who-saw`) take a lock file first, so two of them never chain from the
// same entry. Appends that arrive while one is being written are written together, with one
// fsync (group commit): under load the audit costs one fsync per group, not per lookup.
import { closeSync, constants as fsConstants, fchmodSync, fstatSync, fsync as fsyncCallback, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { readFile, stat, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { LeakscopeError } from '../core/errors.js';
import type { AuditTrail } from '../store/types.js';
import { formatEntry, nextEntry, parseEntry, type AuditDraft, type AuditEntry } from './entry.js';

export const AUDIT_FILE_MODE = 0o600;
const fsync = promisify(fsyncCallback);
/** How long an append waits for another process's lock; a lock older than STALE_LOCK_MS was left by a killed process. */
const LOCK_WAIT_MS = 5_000;
const STALE_LOCK_MS = 30_000;
/** The last entry is read from the end of the file; entries are far shorter than this. */
const TAIL_BYTES = 64 * 1024;
const SHORT_TAIL_BYTES = 4 * 1024;

export function auditFileFor(dbPath: string): string {
  return `${dbPath}.audit.ndjson`;
}

function failed(path: string, what: string, cause: unknown): LeakscopeError {
  return new LeakscopeError('AUDIT_FAILED', `audit file ${path}: ${what}: ${(cause as Error)?.message ?? String(cause)}; the answer was not given`, { cause });
}

export class NdjsonAuditTrail implements AuditTrail {
  /** Drafts waiting for the next write; appends that arrive during a write go out together (one fsync). */
  private pending: Array<{ draft: AuditDraft; resolve: (e: AuditEntry) => void; reject: (e: unknown) => void }> = [];
  private writing = false;
  /**
   * The entry this trail wrote last and the file as it was just after (device, inode, size,
   * mtime). While the file is still exactly so when the lock is taken again, nobody else has
   * written to it and the next entry chains from this one without reading the file's tail.
   */
  private written: { identity: string; entry: AuditEntry } | null = null;

  constructor(readonly location: string, private readonly now: () => number = Date.now) {}

  append(draft: AuditDraft): Promise<AuditEntry> {
    return new Promise((resolve, reject) => {
      this.pending.push({ draft, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      try {
        const entries = await this.appendLocked(group.map((g) => g.draft));
        group.forEach((g, i) => g.resolve(entries[i]!));
      } catch (error) {
        for (const g of group) g.reject(error);
      }
    }
    this.writing = false;
  }

  /**
   * The small steps (lock file, open, stat, read of the last entry, write) are synchronous:
   * each is a few microseconds on a local file, far less than a round trip through libuv's
   * thread pool, which `serve`'s store queries share. Only the fsync, which waits for the
   * disk, is asynchronous; no answer is given before it returns.
   */
  private async appendLocked(drafts: readonly AuditDraft[]): Promise<AuditEntry[]> {
    const release = await this.lock();
    try {
      let fd: number;
      try {
        fd = openSync(this.location,
          fsConstants.O_RDWR | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_NOFOLLOW, AUDIT_FILE_MODE);
      } catch (cause) {
        throw failed(this.location, (cause as NodeJS.ErrnoException).code === 'ELOOP' ? 'is a symbolic link, refused' : 'cannot open', cause);
      }
      try {
        const info = fstatSync(fd);
        if (!info.isFile()) throw failed(this.location, 'not a regular file', new Error('refused'));
        if (typeof process.getuid === 'function' && info.uid !== process.getuid()) {
          throw failed(this.location, `belongs to uid ${info.uid}, not to this user`, new Error('refused'));
        }
        if ((info.mode & 0o077) !== 0) fchmodSync(fd, AUDIT_FILE_MODE);
        const identity = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
        let previous = this.written !== null && this.written.identity === identity ? this.written.entry : this.lastEntry(fd, info.size);
        this.written = null;
        const entries: AuditEntry[] = [];
        for (const draft of drafts) {
          previous = nextEntry(previous, draft, this.now());
          entries.push(previous);
        }
        // One write of whole lines, then one fsync: no answer is given before its entry is durable.
        const lines = Buffer.from(entries.map((e) => `${formatEntry(e)}\n`).join(''), 'utf8');
        for (let written = 0; written < lines.length;) written += writeSync(fd, lines, written);
        await fsync(fd);
        const after = fstatSync(fd);
        this.written = { identity: `${after.dev}:${after.ino}:${after.size}:${after.mtimeMs}`, entry: previous! };
        return entries;
      } catch (cause) {
        if (cause instanceof LeakscopeError) throw cause;
        throw failed(this.location, 'cannot append', cause);
      } finally {
        closeSync(fd);
      }
    } finally {
      release();
    }
  }

  /** The last entry in the open file; a last line that is not an entry is refused (the chain would hide it). */
  private lastEntry(fd: number, size: number): AuditEntry | null {
    if (size === 0) return null;
    // A short read first (an entry is a few hundred bytes), the long one only when it holds no whole line.
    let line = this.lastLine(fd, size, Math.min(size, SHORT_TAIL_BYTES));
    if (line === null) line = this.lastLine(fd, size, Math.min(size, TAIL_BYTES)) ?? '';
    const entry = parseEntry(line);
    if (entry === null) {
      throw new LeakscopeError('AUDIT_FAILED',
        `audit file ${this.location}: its last line is not an audit entry; run leakscope audit verify. The answer was not given`);
    }
    return entry;
  }

  /** The last line of the file's last `length` bytes, trailing newlines dropped; null when they may not hold all of it. */
  private lastLine(fd: number, size: number, length: number): string | null {
    const buffer = Buffer.allocUnsafe(length);
    const read = readSync(fd, buffer, 0, length, size - length);
    let end = read;
    while (end > 0 && buffer[end - 1] === 0x0a) end -= 1;
    if (end === 0) return length < size ? null : '';
    const start = buffer.lastIndexOf(0x0a, end - 1) + 1;
    if (start === 0 && length < size) return null;
    return buffer.toString('utf8', start, end);
  }

  private async lock(): Promise<() => void> {
    const lockPath = `${this.location}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const fd = openSync(lockPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, AUDIT_FILE_MODE);
        try {
          writeSync(fd, String(process.pid));
        } finally {
          closeSync(fd);
        }
        return () => { try { unlinkSync(lockPath); } catch { /* already gone: a stale-lock sweep by another process */ } };
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw failed(this.location, 'cannot take the lock', cause);
      }
      const held = await stat(lockPath).catch(() => null);
      if (held !== null && Date.now() - held.mtimeMs > STALE_LOCK_MS) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) {
        throw new LeakscopeError('AUDIT_FAILED', `audit file ${this.location}: another process holds ${lockPath} for more than ${LOCK_WAIT_MS} ms; the answer was not given`,
          { retryable: true });
      }
      await sleep(5 + Math.random() * 10);
    }
  }

  async lines(): Promise<string[]> {
    let text: string;
    try {
      text = await readFile(this.location, { encoding: 'utf8', flag: fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW });
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new LeakscopeError('INPUT_UNREADABLE', `cannot read the audit file ${this.location}: ${(cause as Error).message}`, { cause });
    }
    return text.split('\n').filter((line) => line.length > 0);
  }
}
