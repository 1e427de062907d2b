// The two lookups of personal data — who saw one subscriber's number, and the affected
// subscribers of a window — done the same way for the CLI and the API: answer computed, audit
// entry appended, and only then the answer returned. If the entry cannot be written the
// lookup fails (AUDIT_FAILED) and nothing is shown.
import { normalizeNumber } from '../core/detect/index.js';
import { LeakscopeError } from '../core/errors.js';
import { decryptNumber, maskNumber, requireEncKey, subscriberHash, type PrivacyKeys } from '../core/privacy/index.js';
import type { AffectedRow } from '../render/index.js';
import { buildWhoSaw, byteCompare, iso, type WhoSawJson } from '../store/index.js';
import type { AuditTrail, DisclosureStore, Window } from '../store/types.js';
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

export async function auditedAffected(
  store: DisclosureStore, trail: AuditTrail, keys: PrivacyKeys,
  request: { window: { from: number; to: number }; reason: string; by: Actor; command: string },
): Promise<{ rows: AffectedRow[]; entry: AuditEntry }> {
  const encKey = requireEncKey(keys, request.command);
  const affected = await store.affected(request.window);
  const missing = affected.filter((a) => a.subscriberEnc === '').length;
  if (missing > 0) {
    throw new LeakscopeError('KEY_INVALID',
      `${missing} of ${affected.length} affected subscribers were stored without their encrypted number (scanned without an encryption key), ` +
      'so they cannot be listed: scan the logs again with the encryption key set');
  }
  const rows: AffectedRow[] = affected.map((a) => ({
    msisdn: decryptNumber(encKey, a.subscriberEnc),
    sites: [...a.sites].sort(byteCompare),
    firstExposure: iso(a.firstSeen),
    lastExposure: iso(a.lastSeen),
    violations: a.violations,
  }));
  rows.sort((a, b) => byteCompare(a.firstExposure, b.firstExposure) || byteCompare(a.msisdn, b.msisdn));
  const entry = await trail.append({
    actor: request.by.actor, role: request.by.role, action: 'affected', subscriberHash: null,
    window: windowIso(request.window), reason: request.reason, results: rows.length,
  });
  return { rows, entry };
}
