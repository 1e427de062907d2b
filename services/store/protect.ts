// Turns a Disclosure from the core into what a store keeps: the subscriber only as keyed
// hash, masked form and ciphertext. Results are memoised per number (the same subscribers
// recur on every batch; the ciphertext already hides nothing the hash does not link).
import type { Disclosure } from '../core/types.js';
import { protect, type PrivacyKeys, type ProtectedSubscriber } from '../core/privacy/index.js';
import type { StoredDisclosure } from './types.js';

const MEMO_LIMIT = 100_000;

export class Protector {
  private readonly memo = new Map<string, ProtectedSubscriber>();

  constructor(private readonly keys: PrivacyKeys) {}

  subscriber(e164: string): ProtectedSubscriber {
    let protectedForms = this.memo.get(e164);
    if (!protectedForms) {
      protectedForms = protect(this.keys, e164);
      if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
      this.memo.set(e164, protectedForms);
    }
    return protectedForms;
  }

  toStored(d: Disclosure): StoredDisclosure {
    const s = d.subscriber === null ? null : this.subscriber(d.subscriber);
    // Field by field rather than rest and spread: one object of a fixed shape (this runs for every disclosure).
    return {
      id: d.id, requestKey: d.requestKey, ts: d.ts, host: d.host, site: d.site, channels: d.channels, verdict: d.verdict,
      partnerId: d.partnerId, registryVersion: d.registryVersion, gatewayId: d.gatewayId, bearer: d.bearer, method: d.method,
      scheme: d.scheme, path: d.path, queryMasked: d.queryMasked, status: d.status,
      subscriberHash: s?.subscriberHash ?? null,
      subscriberMasked: s?.subscriberMasked ?? null,
      subscriberEnc: s?.subscriberEnc ?? null,
    };
  }
}
