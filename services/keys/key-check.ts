// The key checks kept in the store's meta: an HMAC of a fixed label with the hash key, and
// another with the encryption key. They tell a later scan, lookup or export whether its keys
// are the ones the data was stored with, without storing anything from which a key could be
// found.
import { createHmac } from 'node:crypto';
import type { PrivacyKeys } from '../core/privacy/index.js';
import type { StoreMeta } from '../store/types.js';

const KEY_CHECK_LABEL = 'leakscope:key-check:v1';
const ENC_KEY_CHECK_LABEL = 'leakscope:enc-key-check:v1';

export function keyCheckOf(keys: PrivacyKeys): string {
  return createHmac('sha256', keys.hashKey).update(KEY_CHECK_LABEL, 'utf8').digest('hex').slice(0, 32);
}

/** The encryption key's check value, or null when there is no encryption key. */
export function encKeyCheckOf(keys: PrivacyKeys): string | null {
  if (keys.encKey === null) return null;
  return createHmac('sha256', keys.encKey).update(ENC_KEY_CHECK_LABEL, 'utf8').digest('hex').slice(0, 32);
}

/** True when the store records an encryption-key check and `keys` has an encryption key that does not give it. */
export function encKeyDiffers(meta: StoreMeta, keys: PrivacyKeys): boolean {
  const check = encKeyCheckOf(keys);
  return check !== null && typeof meta.encKeyCheck === 'string' && meta.encKeyCheck !== check;
}

/** The encryption-key check a writer should record: its own, when the store has none yet and it has an encryption key. */
export function encKeyCheckToRecord(meta: StoreMeta, keys: PrivacyKeys): string | undefined {
  const check = encKeyCheckOf(keys);
  return check !== null && typeof meta.encKeyCheck !== 'string' ? check : undefined;
}

export const ENC_KEY_MISMATCH =
  'the store\'s numbers were encrypted with another encryption key: use the LEAKSCOPE_ENC_KEY (or key file) of the scan or detector that wrote it';
