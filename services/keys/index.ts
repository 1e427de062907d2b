// Privacy key loading: environment or key file (created owner-only on request).
export { ENC_KEY_ENV, HASH_KEY_ENV, createKeyFile, loadKeys, parseKey, readKeyFile } from './load-keys.js';
export type { LoadKeysOptions, LoadedKeys } from './load-keys.js';
export { ENC_KEY_MISMATCH, encKeyCheckOf, encKeyCheckToRecord, encKeyDiffers, keyCheckOf } from './key-check.js';
