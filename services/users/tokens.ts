// API tokens: 256 random bits, shown to the user once and stored only as their SHA-256.
// A fast hash is right here (unlike for passwords): a token is a uniformly random 256-bit
// secret, so no guess list or brute force of the hash can find it, and checking a request
// costs one SHA-256 (about a microsecond) instead of a deliberately slow hash per request.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Prefix that makes a leaked token recognisable to secret scanners and in support tickets. */
export const TOKEN_PREFIX = 'lks_';
export const TOKEN_BYTES = 32;

const TOKEN_SHAPE = /^lks_[A-Za-z0-9_-]{43}$/;

export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
}

/** True when `text` has the shape of a token (checked before hashing, so junk is refused cheaply). */
export function looksLikeToken(text: string): boolean {
  return TOKEN_SHAPE.test(text);
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time equality of two hex digests of the same length. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
