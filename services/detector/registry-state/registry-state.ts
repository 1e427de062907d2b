// The detector's view of the partner registry, rebuilt from the compacted partner-registry
// topic: one record per partner id (all its validity periods) plus the `__registry__` record
// with the registry-wide settings, which `registry publish` writes last. No I/O, no clock.
//
// Time-versioning lives in the records themselves: every partner entry carries its validity
// period, and detect() judges a request at the request's own time. So the state only ever
// needs the newest complete registry; replaying 2012 logs with it gives the 2012 verdicts.
// A publish in flight (records of two versions mixed) or an invalid record never replaces
// the snapshot in use: the last good one stays until a complete, valid version is read.
import { createHash } from 'node:crypto';
import { isLeakscopeError } from '../../core/errors.js';
import { buildSnapshot, parseRegistry } from '../../core/registry/index.js';
import type { Registry, RegistrySnapshot } from '../../core/types.js';
import { fromAvroPartnerRecord, type AvroCodec, type PartnerRecordContent } from '../../avro/index.js';

/** Key of the registry-wide settings record. Not a valid partner id (ids start with [a-z0-9]). */
export const REGISTRY_SETTINGS_KEY = '__registry__';

export type RecordOutcome =
  | { kind: 'accepted'; key: string; removed: boolean }
  | { kind: 'refused'; key: string | null; reason: string };

export type SettleOutcome =
  /** A new complete, valid registry replaced the snapshot. */
  | { kind: 'applied'; version: string; partners: number; entries: number }
  /** Nothing new to apply (the complete registry is the one in use). */
  | { kind: 'unchanged' }
  /** The records read so far do not make one complete version yet (a publish in flight). */
  | { kind: 'pending'; reason: string }
  /** The records make a complete version, but it does not validate; the old snapshot stays. */
  | { kind: 'refused'; version: string; problems: readonly string[] };

export interface ActiveRegistry {
  readonly registry: Registry;
  readonly snapshot: RegistrySnapshot;
  /** sha256 of the registry's canonical JSON: equal digests, equal registries. */
  readonly digest: string;
}

export class RegistryState {
  private readonly partners = new Map<string, PartnerRecordContent>();
  private settings: PartnerRecordContent | null = null;
  private active: ActiveRegistry | null = null;
  private lastRefusedDigest: string | null = null;
  private dirty = false;

  constructor(private readonly codec: AvroCodec) {}

  /** The registry in use, or null before the first complete valid one. */
  get current(): ActiveRegistry | null {
    return this.active;
  }

  /** One message of partner-registry: a PartnerRecord, or a tombstone (value null) removing the key. */
  applyMessage(key: Buffer | string | null, value: Buffer | null): RecordOutcome {
    const keyText = key === null ? null : key.toString();
    if (keyText === null || keyText === '') return { kind: 'refused', key: null, reason: 'record without a key (expected a partner id or __registry__)' };
    if (value === null) {
      if (keyText === REGISTRY_SETTINGS_KEY) this.settings = null;
      else this.partners.delete(keyText);
      this.dirty = true;
      return { kind: 'accepted', key: keyText, removed: true };
    }
    let content: PartnerRecordContent;
    try {
      content = fromAvroPartnerRecord(this.codec.decodeAs('PartnerRecord', value));
    } catch (err) {
      return { kind: 'refused', key: keyText, reason: isLeakscopeError(err) ? err.message : String(err) };
    }
    if (content.partnerId !== keyText) {
      return { kind: 'refused', key: keyText, reason: `record key ${JSON.stringify(keyText)} differs from its partner_id ${JSON.stringify(content.partnerId)}` };
    }
    if (keyText === REGISTRY_SETTINGS_KEY) this.settings = content;
    else this.partners.set(keyText, content);
    this.dirty = true;
    return { kind: 'accepted', key: keyText, removed: false };
  }

  /** After a run of messages: builds and swaps in the registry if the records make a complete valid version. */
  settle(): SettleOutcome {
    if (!this.dirty) return { kind: 'unchanged' };
    const settings = this.settings ?? this.partners.values().next().value ?? null;
    if (settings === null) {
      return { kind: 'pending', reason: 'no registry published yet: run leakscope registry publish FILE' };
    }
    const version = settings.registryVersion;
    for (const p of this.partners.values()) {
      if (p.registryVersion !== version) {
        return { kind: 'pending', reason: `partner ${p.partnerId} is of version ${p.registryVersion}, the registry of ${version}: a publish is in flight` };
      }
    }
    if (this.partners.size !== settings.partnerCount) {
      return { kind: 'pending', reason: `version ${version} has ${settings.partnerCount} partners, ${this.partners.size} read so far` };
    }
    this.dirty = false;
    const text = registryJson(settings, [...this.partners.values()]);
    const digest = createHash('sha256').update(text).digest('hex');
    if (this.active?.digest === digest) return { kind: 'unchanged' };
    let registry: Registry;
    try {
      registry = parseRegistry(text, `topic partner-registry (version ${version})`);
    } catch (err) {
      if (digest === this.lastRefusedDigest) return { kind: 'unchanged' };
      this.lastRefusedDigest = digest;
      const problems = isLeakscopeError(err) && err.problems.length > 0 ? err.problems : [String((err as Error)?.message ?? err)];
      return { kind: 'refused', version, problems };
    }
    // Numbers already stored were normalised (and hashed) with the region in force: a new
    // region would make the same subscriber hash differently, and who-saw miss them.
    if (this.active && registry.region !== this.active.registry.region) {
      this.lastRefusedDigest = digest;
      return {
        kind: 'refused', version,
        problems: [`region: ${registry.region} differs from ${this.active.registry.region}, the region of the numbers already judged; a new region needs a new store`],
      };
    }
    this.active = Object.freeze({ registry, snapshot: buildSnapshot(registry), digest });
    return { kind: 'applied', version, partners: this.partners.size, entries: registry.partners.length };
  }
}

/**
 * The registry file form of the records (JSON is YAML), partners in id order so the digest
 * does not depend on the order records arrived in. parseRegistry then validates it exactly as
 * it validates a file: a record that would not pass `registry validate` is refused the same way.
 */
export function registryJson(settings: PartnerRecordContent, partners: readonly PartnerRecordContent[]): string {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  const sorted = [...partners].sort((a, b) => (a.partnerId < b.partnerId ? -1 : a.partnerId > b.partnerId ? 1 : 0));
  return JSON.stringify({
    version: settings.registryVersion,
    region: settings.region,
    identity_headers: [...settings.identityHeaders],
    partners: sorted.flatMap((p) =>
      p.entries.map((e) => ({
        id: p.partnerId,
        name: e.name,
        purposes: [...e.purposes],
        domains: [...e.domains],
        identifiers: [...e.identifiers],
        valid_from: iso(e.validFrom),
        valid_to: iso(e.validTo),
      })),
    ),
  });
}
