// How a subscriber number is kept in the store: a keyed hash for lookups, a masked form for
// display, and (when the encryption key is present) the number encrypted for the privileged
// export. Pure compute over node:crypto; keys come in as Buffers, never from env or files here.

import { createCipheriv, createDecipheriv, createHmac, randomFillSync } from 'node:crypto';
import { LeakscopeError } from '../errors.js';

/** Both keys are 32 random bytes. `encKey` is null when only lookups are possible (no export). */
export interface PrivacyKeys {
  readonly hashKey: Buffer;
  readonly encKey: Buffer | null;
}

/** The stored forms of one subscriber. `subscriberEnc` is null when the encryption key is absent. */
export interface ProtectedSubscriber {
  subscriberHash: string;
  subscriberMasked: string;
  subscriberEnc: string | null;
}

export const KEY_BYTES = 32;

// E.164: '+', a non-zero country code digit, at most 15 digits in all.
const E164 = /^\+[1-9][0-9]{1,14}$/;

function assertE164(e164: string): void {
  if (!E164.test(e164)) {
    throw new LeakscopeError('NUMBER_INVALID', `not an E.164 number (expected '+' and 2 to 15 digits): ${describeValue(e164)}`);
  }
}

// A malformed number is echoed only by shape and length: it may still be someone's number.
function describeValue(value: string): string {
  return `${value.length} characters`;
}

function assertKey(key: Buffer, which: 'hash key' | 'encryption key'): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new LeakscopeError('KEY_INVALID', `the ${which} must be ${KEY_BYTES} bytes`);
  }
}

/** HMAC-SHA-256 of the E.164 number (with '+'), lower-case hex: the lookup key of a subscriber. */
export function subscriberHash(hashKey: Buffer, e164: string): string {
  assertKey(hashKey, 'hash key');
  assertE164(e164);
  return createHmac('sha256', hashKey).update(e164, 'utf8').digest('hex');
}

/** The fixed-width mask: four stars whatever the number of digits hidden, so the length is not shown. */
export const MASK = '****';
const MAX_LEADING = 7;
const TRAILING = 2;
const MIN_HIDDEN = 3;

/**
 * Display form of a run of digits: at most 7 leading and 2 trailing digits shown, at least 3
 * hidden (`447700900123` → `4477009****23`). Short numbers lose leading digits first.
 */
export function maskDigits(digits: string): string {
  const n = digits.length;
  if (n <= MIN_HIDDEN) return MASK;
  const trailing = n - MIN_HIDDEN >= TRAILING + 1 ? TRAILING : 0;
  const hidden = Math.max(MIN_HIDDEN, n - MAX_LEADING - trailing);
  const leading = n - hidden - trailing;
  return digits.slice(0, leading) + MASK + digits.slice(n - trailing);
}

/** `+447700900123` → `+4477009****23` (README "Command reference", Keys). */
export function maskNumber(e164: string): string {
  assertE164(e164);
  return '+' + maskDigits(e164.slice(1));
}

// Binding the version into the authenticated data means a blob cannot be replayed under a
// different format version, and a leakscope blob cannot be confused with another GCM use of the key.
const ENC_VERSION = 'v1';
const ENC_PREFIX = `${ENC_VERSION}:`;
const ENC_AAD = Buffer.from(`leakscope:subscriber:${ENC_VERSION}`, 'utf8');
const IV_BYTES = 12;
const TAG_BYTES = 16;

// IVs are drawn from a pool of CSPRNG bytes filled IV_POOL_IVS at a time: one randomFillSync
// per 1,024 IVs instead of a randomBytes call (about 4 µs) for each. Each IV is used once, the
// pool is refilled before any byte would be used again (README "Choices made where the design
// is silent", Encryption).
const IV_POOL_IVS = 1024;
const ivPool = Buffer.allocUnsafeSlow(IV_BYTES * IV_POOL_IVS);
let ivNext = ivPool.length;

/** 12 fresh random bytes, a copy of its own (never a view of the pool, which is refilled). */
function freshIv(): Buffer {
  if (ivNext === ivPool.length) {
    randomFillSync(ivPool);
    ivNext = 0;
  }
  const iv = Buffer.from(ivPool.subarray(ivNext, ivNext + IV_BYTES));
  ivNext += IV_BYTES;
  return iv;
}

/** AES-256-GCM with a random 12-byte IV: `v1:` + base64(iv | tag | ciphertext). */
export function encryptNumber(encKey: Buffer, e164: string): string {
  assertKey(encKey, 'encryption key');
  assertE164(e164);
  const iv = freshIv();
  const cipher = createCipheriv('aes-256-gcm', encKey, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(ENC_AAD);
  const body = Buffer.concat([cipher.update(e164, 'utf8'), cipher.final()]);
  return ENC_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

/** Inverse of encryptNumber; the tag is verified, so a wrong key or a changed byte is refused. */
export function decryptNumber(encKey: Buffer, blob: string): string {
  assertKey(encKey, 'encryption key');
  if (typeof blob !== 'string' || !blob.startsWith(ENC_PREFIX)) {
    throw new LeakscopeError('KEY_INVALID', `could not decrypt: not an encrypted subscriber value (expected '${ENC_PREFIX}…')`);
  }
  const raw = Buffer.from(blob.slice(ENC_PREFIX.length), 'base64');
  if (raw.length <= IV_BYTES + TAG_BYTES) {
    throw new LeakscopeError('KEY_INVALID', 'could not decrypt: the encrypted value is truncated');
  }
  const decipher = createDecipheriv('aes-256-gcm', encKey, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(ENC_AAD);
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  let plain: string;
  try {
    plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch (cause) {
    throw new LeakscopeError('KEY_INVALID', 'could not decrypt: wrong key or corrupted value', { cause });
  }
  if (!E164.test(plain)) {
    throw new LeakscopeError('KEY_INVALID', 'could not decrypt: the decrypted value is not an E.164 number');
  }
  return plain;
}

/** The encryption key, or a KEY_INVALID that says how to provide it; `purpose` names the caller (`export-affected`). */
export function requireEncKey(keys: PrivacyKeys, purpose: string): Buffer {
  if (keys.encKey === null) {
    throw new LeakscopeError(
      'KEY_INVALID',
      `${purpose} needs the encryption key, and only the hash key was loaded: set LEAKSCOPE_ENC_KEY or add "enc_key" to the key file`,
    );
  }
  return keys.encKey;
}

/** The three stored forms of one subscriber (encrypted only when the encryption key is present). */
export function protect(keys: PrivacyKeys, e164: string): ProtectedSubscriber {
  return {
    subscriberHash: subscriberHash(keys.hashKey, e164),
    subscriberMasked: maskNumber(e164),
    subscriberEnc: keys.encKey === null ? null : encryptNumber(keys.encKey, e164),
  };
}
