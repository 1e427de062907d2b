// Where `GET /api/v1/alerts` and `GET /api/v1/registry` read from: small interfaces so that a
// store-backed alert source (an alerts table written with each batch) plugs in beside the
// Kafka one, and the registry can come from the store or from the partner-registry topic.
import type { Registry } from '../core/types.js';
import type { DisclosureStore } from '../store/types.js';
import { alertJson } from './kafka-sources.js';
import type { AlertJson } from './schemas.js';

export interface AlertSource {
  /** Says where the alerts come from, e.g. `kafka topic leak-alerts`. */
  readonly description: string;
  /** Alerts detected at or after `sinceMs` (all kept when null), newest first, at most `limit`. */
  recent(sinceMs: number | null, limit: number): Promise<AlertJson[]>;
  close(): Promise<void>;
}

export interface RegistrySource {
  /** The registry the stored data was judged with, or null when none is known. */
  current(): Promise<Registry | null>;
}

export interface RegistryJson {
  version: string;
  region: string;
  identity_headers: string[];
  partners: Array<{
    id: string; name: string; purposes: string[]; domains: string[]; identifiers: string[];
    valid_from: string | null; valid_to: string | null;
  }>;
}

/** The registry as the API shows it: partners in registry order, times ISO-8601. */
export function registryJson(registry: Registry): RegistryJson {
  const time = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    version: registry.version,
    region: registry.region,
    identity_headers: [...registry.identityHeaders],
    partners: registry.partners.map((p) => ({
      id: p.id, name: p.name, purposes: [...p.purposes], domains: [...p.domains], identifiers: [...p.identifiers],
      valid_from: time(p.validFrom), valid_to: time(p.validTo),
    })),
  };
}

/**
 * Alerts from the store: the detector and `watch` write each batch's alerts with its
 * disclosures (the `alerts` table), so the store holds every alert its data raised.
 */
export class StoreAlertSource implements AlertSource {
  readonly description = 'the store (alerts written with each batch by detect and watch)';

  constructor(private readonly store: { use<T>(task: (store: DisclosureStore) => Promise<T>): Promise<T> }) {}

  async recent(sinceMs: number | null, limit: number): Promise<AlertJson[]> {
    const stored = await this.store.use((s) => s.recentAlerts({ ...(sinceMs === null ? {} : { since: sinceMs }), limit }));
    return stored.map(alertJson);
  }

  async close(): Promise<void> {}
}
