import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decryptNumber,
  encryptNumber,
  maskNumber,
  protect,
  requireEncKey,
  subscriberHash,
} from '../../../../services/core/privacy/index.js';
import { LeakscopeError } from '../../../../services/core/errors.js';

const hashKey = Buffer.alloc(32, 1);
const encKey = Buffer.alloc(32, 2);
const e164 = fc.stringMatching(/^\+[1-9][0-9]{1,14}$/);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof LeakscopeError ? error.code : `not a LeakscopeError: ${String(error)}`;
  }
  return undefined;
}

describe('subscriberHash', () => {
  it('is the HMAC-SHA-256 hex of the E.164 number with its +', () => {
    // Reference value computed independently: printf '+447700900123' | openssl dgst -sha256 -mac HMAC -macopt hexkey:0101…01
    const h = subscriberHash(hashKey, '+447700900123');
    expect(h).toBe('591c63c6ef4b84136ef70a2338feac438440977a1bf6735c5fe144e146729e38');
    expect(subscriberHash(hashKey, '+447700900123')).toBe(h);
  });

  it('depends on the key', () => {
    expect(subscriberHash(hashKey, '+447700900123')).not.toBe(subscriberHash(Buffer.alloc(32, 3), '+447700900123'));
  });

  it('refuses a number that is not E.164, so lookups cannot silently miss', () => {
    expect(codeOf(() => subscriberHash(hashKey, '447700900123'))).toBe('NUMBER_INVALID');
    expect(codeOf(() => subscriberHash(hashKey, '+44 7700 900123'))).toBe('NUMBER_INVALID');
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(codeOf(() => subscriberHash(Buffer.alloc(16), '+447700900123'))).toBe('KEY_INVALID');
  });
});

describe('maskNumber', () => {
  it('gives the display form the README shows', () => {
    expect(maskNumber('+447700900123')).toBe('+4477009****23');
  });

  it.each([
    ['+12', '+****'],
    ['+1234', '+1****'],
    ['+123456', '+1****56'],
    ['+14155552671', '+141555****71'],
    ['+358505476123', '+3585054****23'],
    ['+123456789012345', '+1234567****45'],
  ])('masks %s as %s', (number, masked) => {
    expect(maskNumber(number)).toBe(masked);
  });

  it('always hides at least three digits and never shows the length', () => {
    fc.assert(
      fc.property(e164, (n) => {
        const masked = maskNumber(n);
        const shown = masked.replace(/[^0-9]/g, '').length;
        expect(n.length - 1 - shown).toBeGreaterThanOrEqual(Math.min(3, n.length - 1));
        expect(masked).toContain('****');
        expect(masked.match(/\*/g)?.length).toBe(4);
      }),
    );
  });
});

describe('encryptNumber / decryptNumber', () => {
  it('round-trips any E.164 number', () => {
    fc.assert(fc.property(e164, (n) => decryptNumber(encKey, encryptNumber(encKey, n)) === n));
  });

  it('writes a versioned compact value with a fresh IV each time', () => {
    const a = encryptNumber(encKey, '+447700900123');
    const b = encryptNumber(encKey, '+447700900123');
    expect(a).toMatch(/^v1:[A-Za-z0-9+/]+=*$/);
    expect(a).not.toBe(b);
    expect(Buffer.from(a.slice(3), 'base64').subarray(0, 12).equals(Buffer.from(b.slice(3), 'base64').subarray(0, 12))).toBe(false);
  });

  it('never repeats an IV, across several refills of the IV pool', () => {
    const ivs = new Set<string>();
    const n = 5000; // the pool holds 1,024 IVs
    for (let i = 0; i < n; i++) {
      const blob = encryptNumber(encKey, '+447700900123');
      ivs.add(Buffer.from(blob.slice(3), 'base64').subarray(0, 12).toString('hex'));
      if (i % 997 === 0) expect(decryptNumber(encKey, blob)).toBe('+447700900123');
    }
    expect(ivs.size).toBe(n);
  });

  it('refuses the wrong key with a clear KEY_INVALID', () => {
    const blob = encryptNumber(encKey, '+447700900123');
    expect(() => decryptNumber(randomBytes(32), blob)).toThrow(/could not decrypt: wrong key or corrupted value/);
    expect(codeOf(() => decryptNumber(randomBytes(32), blob))).toBe('KEY_INVALID');
  });

  it('refuses any changed byte', () => {
    const blob = encryptNumber(encKey, '+447700900123');
    const raw = Buffer.from(blob.slice(3), 'base64');
    for (let i = 0; i < raw.length; i++) {
      const tampered = Buffer.from(raw);
      tampered[i] = (tampered[i] as number) ^ 0x01;
      expect(codeOf(() => decryptNumber(encKey, 'v1:' + tampered.toString('base64')))).toBe('KEY_INVALID');
    }
  });

  it('refuses values that are not v1 blobs or are truncated', () => {
    expect(codeOf(() => decryptNumber(encKey, '+447700900123'))).toBe('KEY_INVALID');
    expect(codeOf(() => decryptNumber(encKey, 'v1:AAAA'))).toBe('KEY_INVALID');
  });
});

describe('protect', () => {
  it('gives hash, masked form and encrypted number', () => {
    const p = protect({ hashKey, encKey }, '+447700900123');
    expect(p.subscriberHash).toBe(subscriberHash(hashKey, '+447700900123'));
    expect(p.subscriberMasked).toBe('+4477009****23');
    expect(decryptNumber(encKey, p.subscriberEnc as string)).toBe('+447700900123');
  });

  it('stores no encrypted number when only the hash key is present', () => {
    expect(protect({ hashKey, encKey: null }, '+447700900123').subscriberEnc).toBeNull();
  });

  it('says how to provide the encryption key when export needs it', () => {
    expect(() => requireEncKey({ hashKey, encKey: null }, 'export-affected')).toThrow(/export-affected needs the encryption key.*LEAKSCOPE_ENC_KEY/);
    expect(requireEncKey({ hashKey, encKey }, 'export-affected')).toBe(encKey);
  });
});
