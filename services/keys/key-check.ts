// The key check kept in the store's meta: an HMAC of a fixed label with the hash key. It
// tells a later scan or lookup whether its key is the one the data was stored with,
// without storing anything from which the key could be found.
import { createHmac } from 'node:crypto';
import type { PrivacyKeys } from '../core/privacy/index.js';

const KEY_CHECK_LABEL = 'leakscope:key-check:v1';

export function keyCheckOf(keys: PrivacyKeys): string {
  return createHmac('sha256', keys.hashKey).update(KEY_CHECK_LABEL, 'utf8').digest('hex').slice(0, 32);
}
