// Audit entries and their hash chain, pure: no I/O. Every who-saw and affected answer is
// preceded by one entry; each entry carries the SHA-256 of its own content (`hash`) and the
// `hash` of the entry before it (`prev`), so an edited, removed or reordered entry breaks the
// chain where it happened. See "Audit" in the README.
import { createHash } from 'node:crypto';

export const AUDIT_ACTIONS = ['who-saw', 'affected'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** `prev` of the first entry. */
export const GENESIS = '0'.repeat(64);

/** What a caller gives; sequence number, time and hashes are added when it is appended. */
export interface AuditDraft {
  /** The user name (API) or `cli:<os user>` (CLI). */
  actor: string;
  /** The user's role; `cli` for the command line, which reads the store with its own keys. */
  role: string;
  action: AuditAction;
  /** Keyed hash of the subscriber looked up (who-saw); null for affected. Never the number. */
  subscriberHash: string | null;
  /** ISO-8601 ends of the window; null for an open end. */
  window: { from: string | null; to: string | null };
  reason: string;
  /** Rows in the answer: recipients (who-saw) or subscribers (affected). */
  results: number;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  role: string;
  action: AuditAction;
  subscriber_hash: string | null;
  window: { from: string | null; to: string | null };
  reason: string;
  results: number;
  prev: string;
  hash: string;
}

/** The content an entry's hash covers: every field but `hash`, in this order. */
function content(entry: Omit<AuditEntry, 'hash'>): string {
  return JSON.stringify({
    seq: entry.seq, at: entry.at, actor: entry.actor, role: entry.role, action: entry.action,
    subscriber_hash: entry.subscriber_hash, window: { from: entry.window.from, to: entry.window.to },
    reason: entry.reason, results: entry.results, prev: entry.prev,
  });
}

export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(content(entry), 'utf8').digest('hex');
}

/** The entry that follows `previous` (null: the first), at time `atMs`. */
export function nextEntry(previous: AuditEntry | null, draft: AuditDraft, atMs: number): AuditEntry {
  const body = {
    seq: previous === null ? 1 : previous.seq + 1,
    at: new Date(atMs).toISOString(),
    actor: draft.actor,
    role: draft.role,
    action: draft.action,
    subscriber_hash: draft.subscriberHash,
    window: { from: draft.window.from, to: draft.window.to },
    reason: draft.reason,
    results: draft.results,
    prev: previous === null ? GENESIS : previous.hash,
  };
  return { ...body, hash: entryHash(body) };
}

/** One line of the audit file or row of the audit table. */
export function formatEntry(entry: AuditEntry): string {
  // The hashed content with `hash` added as its last field: the text JSON.stringify gives the whole entry.
  return `${content(entry).slice(0, -1)},"hash":${JSON.stringify(entry.hash)}}`;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Reads one stored line; null when it is not an entry (verify names it). */
export function parseEntry(line: string): AuditEntry | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const e = value as Record<string, unknown>;
  const w = e['window'] as Record<string, unknown> | null | undefined;
  const okWindowEnd = (v: unknown) => v === null || typeof v === 'string';
  if (!Number.isSafeInteger(e['seq']) || typeof e['at'] !== 'string' || typeof e['actor'] !== 'string' || typeof e['role'] !== 'string'
    || !(AUDIT_ACTIONS as readonly unknown[]).includes(e['action']) || !(e['subscriber_hash'] === null || typeof e['subscriber_hash'] === 'string')
    || typeof w !== 'object' || w === null || !okWindowEnd(w['from']) || !okWindowEnd(w['to']) || typeof e['reason'] !== 'string'
    || !Number.isSafeInteger(e['results']) || typeof e['prev'] !== 'string' || !HEX64.test(e['prev'])
    || typeof e['hash'] !== 'string' || !HEX64.test(e['hash'])) return null;
  return {
    seq: e['seq'] as number, at: e['at'], actor: e['actor'], role: e['role'], action: e['action'] as AuditAction,
    subscriber_hash: e['subscriber_hash'] as string | null, window: { from: w['from'] as string | null, to: w['to'] as string | null },
    reason: e['reason'], results: e['results'] as number, prev: e['prev'], hash: e['hash'],
  };
}

export type VerifyResult =
  | { ok: true; entries: number; head: string }
  | { ok: false; entries: number; seq: number; line: number; problem: string };

/**
 * Checks a whole trail, in stored order. The first problem is named: an entry whose content
 * no longer gives its hash was changed; a gap in the sequence is a removal; a sequence going
 * back is a reordering; a chain link that does not match is a change or a removal that
 * renumbered the rest. A trail cut at its end cannot be told from a shorter one: the head
 * hash printed by `audit verify` is what to keep elsewhere to catch that.
 */
export function verifyChain(lines: readonly string[]): VerifyResult {
  let previous: AuditEntry | null = null;
  for (const [i, line] of lines.entries()) {
    const expectedSeq = previous === null ? 1 : previous.seq + 1;
    const fail = (problem: string): VerifyResult => ({ ok: false, entries: lines.length, seq: expectedSeq, line: i + 1, problem });
    const entry = parseEntry(line);
    if (entry === null) return fail(`line ${i + 1} is not an audit entry: it was changed`);
    if (entryHash(entry) !== entry.hash) return fail(`entry ${entry.seq} (line ${i + 1}) was changed: its content does not give its hash`);
    if (entry.seq > expectedSeq) {
      const gap = entry.seq - expectedSeq;
      return fail(`entry ${expectedSeq} was removed${gap > 1 ? ` (and ${gap - 1} after it)` : ''}: line ${i + 1} holds entry ${entry.seq}`);
    }
    if (entry.seq < expectedSeq) return fail(`entries were reordered: line ${i + 1} holds entry ${entry.seq} where entry ${expectedSeq} belongs`);
    const expectedPrev = previous === null ? GENESIS : previous.hash;
    if (entry.prev !== expectedPrev) {
      return fail(`entry ${entry.seq} (line ${i + 1}) does not follow entry ${entry.seq - 1}: an entry was changed, removed or reordered before it`);
    }
    previous = entry;
  }
  return { ok: true, entries: lines.length, head: previous === null ? GENESIS : previous.hash };
}
