// The two lookups of personal data — who saw one subscriber's number, and the affected
// subscribers of a window — done the same way for the CLI and the API: answer computed, audit
// entry appended, and only then the answer returned. If the entry cannot be written the
// lookup fails (AUDIT_FAILED) and nothing is shown.
import { normalizeNumber } from '../core/detect/index.js';
import { LeakscopeError } from '../core/errors.js';
import { decryptNumber, maskNumber, requireEncKey, subscriberHash, type PrivacyKeys } from '../core/privacy/index.js';
import type { AffectedRow } from '../render/index.js';
import { buildWhoSaw, byteCompare, iso, type WhoSawJson } from '../store/index.js';
import type { AffectedSubscriber, AuditTrail, DisclosureStore, Window } from '../store/types.js';
import type { AuditEntry } from './entry.js';

/** Region for national numbers when the store records none. */
export const FALLBACK_REGION = 'GB';

export interface Actor {
  actor: string;
  role: string;
}

function windowIso(window: Window): { from: string | null; to: string | null } {
  return { from: window.from === null ? null : iso(window.from), to: window.to === null ? null : iso(window.to) };
}

/** Reads a number as the store's region does; the value is never echoed in the error. */
export function readNumber(raw: string, region: string): string {
  const forms = normalizeNumber(raw, region);
  if (forms === null) {
    // A mistyped number is still close to someone's number.
    throw new LeakscopeError('NUMBER_INVALID',
      `cannot read the NUMBER given (${raw.length} characters) as a phone number of region ${region}: ` +
      'write it in international form (+447700900123 or 447700900123) or national form (07700900123)');
  }
  return forms.e164;
}

export async function auditedWhoSaw(
  store: DisclosureStore, trail: AuditTrail, keys: PrivacyKeys,
  request: { e164: string; window: Window; reason: string; by: Actor },
): Promise<{ answer: WhoSawJson; entry: AuditEntry }> {
  const hash = subscriberHash(keys.hashKey, request.e164);
  const recipients = await store.whoSaw(hash, request.window);
  const answer = buildWhoSaw(maskNumber(request.e164), request.window, recipients);
  const entry = await trail.append({
    actor: request.by.actor, role: request.by.role, action: 'who-saw', subscriberHash: hash,
    window: windowIso(request.window), reason: request.reason, results: answer.recipients.length,
  });
  return { answer, entry };
}

/** Subscribers named one by one at most when some cannot be listed; the rest are counted. */
const MAX_NAMED = 50;

/** A subscriber the notification list cannot hold, and why. */
export type Unlisted = { subscriber: AffectedSubscriber; reason: UnlistedReason };
export type UnlistedReason = 'no-ciphertext' | 'undecryptable' | 'other-number';

/** Why a subscriber is not listed: [said of one, said of several]. */
const REASON_TEXT: Record<UnlistedReason, readonly [string, string]> = {
  'no-ciphertext': ['was stored without its encrypted number', 'were stored without their encrypted number'],
  undecryptable: ['has an encrypted number that does not decrypt', 'have an encrypted number that does not decrypt'],
  'other-number': ['has an encrypted number that decrypts to another subscriber\'s number (the stored value was swapped)',
    'have an encrypted number that decrypts to another subscriber\'s number (the stored values were swapped)'],
};

/** Decrypts each subscriber's number, checked against its keyed hash; what fails is returned, not thrown. */
function decryptAll(affected: readonly AffectedSubscriber[], keys: PrivacyKeys, encKey: Buffer): { rows: AffectedRow[]; unlisted: Unlisted[] } {
  const rows: AffectedRow[] = [];
  const unlisted: Unlisted[] = [];
  for (const a of affected) {
    if (a.subscriberEnc === '') {
      unlisted.push({ subscriber: a, reason: 'no-ciphertext' });
      continue;
    }
    let msisdn: string;
    try {
      msisdn = decryptNumber(encKey, a.subscriberEnc);
    } catch {
      unlisted.push({ subscriber: a, reason: 'undecryptable' });
      continue;
    }
    if (subscriberHash(keys.hashKey, msisdn) !== a.subscriberHash) {
      unlisted.push({ subscriber: a, reason: 'other-number' });
      continue;
    }
    rows.push({ msisdn, sites: [...a.sites].sort(byteCompare), firstExposure: iso(a.firstSeen), lastExposure: iso(a.lastSeen), violations: a.violations });
  }
  return { rows, unlisted };
}

/** One line per unlisted subscriber (up to MAX_NAMED): masked number, first exposure, reason. */
async function describeUnlisted(store: DisclosureStore, unlisted: readonly Unlisted[]): Promise<string[]> {
  const named = [...unlisted].sort((a, b) => a.subscriber.firstSeen - b.subscriber.firstSeen).slice(0, MAX_NAMED);
  const masked = store.maskedSubscribers === undefined ? new Map<string, string>()
    : await store.maskedSubscribers(named.map((u) => u.subscriber.subscriberHash));
  const lines = named.map(({ subscriber: s, reason }) => {
    // The hash prefix names a subscriber the store holds no masked form of; it reveals nothing of the number.
    const who = masked.get(s.subscriberHash) ?? `subscriber hash ${s.subscriberHash.slice(0, 16)}…`;
    return `${who}, first exposure ${iso(s.firstSeen)}: ${REASON_TEXT[reason][0]}`;
  });
  if (unlisted.length > named.length) lines.push(`… and ${unlisted.length - named.length} more`);
  return lines;
}

function countsByReason(unlisted: readonly Unlisted[], total: number): string {
  const counts = new Map<UnlistedReason, number>();
  for (const u of unlisted) counts.set(u.reason, (counts.get(u.reason) ?? 0) + 1);
  return [...counts].map(([reason, n]) => `${n} of ${total} affected subscribers ${REASON_TEXT[reason][n === 1 ? 0 : 1]}`).join('; ');
}

/**
 * The notification list of a window. A subscriber that cannot be listed (no ciphertext, one that
 * does not decrypt, one that decrypts to another number) does not cost the others: it is
 * returned in `unlisted`, with `unlistedLines` naming each by masked number and first exposure.
 * When nobody can be listed the lookup fails (KEY_INVALID) and no audit entry is written, since
 * nothing is shown; otherwise the entry is appended before anything is returned.
 */
export async function auditedAffected(
  store: DisclosureStore, trail: AuditTrail, keys: PrivacyKeys,
  request: { window: { from: number; to: number }; reason: string; by: Actor; command: string },
): Promise<{ rows: AffectedRow[]; unlisted: Unlisted[]; unlistedLines: string[]; total: number; counts: string; entry: AuditEntry }> {
  const encKey = requireEncKey(keys, request.command);
  const affected = await store.affected(request.window);
  const total = affected.length;
  const { rows, unlisted } = decryptAll(affected, keys, encKey);
  const unlistedLines = unlisted.length > 0 ? await describeUnlisted(store, unlisted) : [];
  const counts = countsByReason(unlisted, total);
  if (unlisted.length > 0 && rows.length === 0) {
    // Nothing could be listed: the cause is most likely one for all.
    const keyHint = unlisted.every((u) => u.reason === 'undecryptable')
      ? ': could not decrypt: wrong key or corrupted value; check LEAKSCOPE_ENC_KEY (or the key file) is the one the data was stored with'
      : unlisted.every((u) => u.reason === 'no-ciphertext') ? ', so they cannot be listed: scan the logs again with the encryption key set' : '';
    throw new LeakscopeError('KEY_INVALID', `${counts}${keyHint}`, { problems: unlistedLines });
  }
  rows.sort((a, b) => byteCompare(a.firstExposure, b.firstExposure) || byteCompare(a.msisdn, b.msisdn));
  const entry = await trail.append({
    actor: request.by.actor, role: request.by.role, action: 'affected', subscriberHash: null,
    window: windowIso(request.window), reason: request.reason, results: rows.length,
  });
  return { rows, unlisted, unlistedLines, total, counts, entry };
}
