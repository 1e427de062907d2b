// The names under which every store keeps the facts of StoreMeta, so that DuckDB and ClickHouse
// hold the same keys (services/store/types.ts says what each fact means).
import type { StoreMeta } from './types.js';

const META_KEYS: Readonly<Record<keyof StoreMeta, string>> = Object.freeze({
  region: 'region',
  keyCheck: 'key_check',
  encKeyCheck: 'enc_key_check',
});

/** Keys older stores used, read when the current key is absent: ClickHouse stores wrote `keyCheck` before the names were shared. */
const LEGACY_META_KEYS: Readonly<Partial<Record<keyof StoreMeta, string>>> = Object.freeze({
  keyCheck: 'keyCheck',
});

/** StoreMeta from a store's key → value lookup (null when absent); the current key first, then a legacy one. */
export function metaFrom(lookup: (key: string) => string | null): StoreMeta {
  const value = (field: keyof StoreMeta): string | null => {
    const current = lookup(META_KEYS[field]);
    const legacy = LEGACY_META_KEYS[field];
    return current ?? (legacy === undefined ? null : lookup(legacy));
  };
  const encKeyCheck = value('encKeyCheck');
  return { region: value('region'), keyCheck: value('keyCheck'), ...(encKeyCheck === null ? {} : { encKeyCheck }) };
}

/** The (key, value) pairs a store writes for `meta`. */
export function metaEntries(meta: StoreMeta): Array<[string, string | null]> {
  // The encryption-key check is optional (stores written before it existed have none): written when known.
  return (Object.keys(META_KEYS) as Array<keyof StoreMeta>)
    .filter((field) => meta[field] !== undefined)
    .map((field) => [META_KEYS[field], meta[field] ?? null]);
}
