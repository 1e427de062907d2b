// No output passes a control, bidi or invisible character on raw (issue 7, item 10): text
// formats show it as a visible \uXXXX, JSON writes it as a JSON escape and reads back unchanged.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { safeJson, safeJsonText, visibleText } from '../../../services/core/visible-text.js';

/** Every code point the outputs must never carry raw, listed one by one (the contract). */
const UNSAFE: readonly number[] = [
  ...Array.from({ length: 0x20 }, (_, i) => i), // C0: NUL, CR, ESC, …
  ...Array.from({ length: 0xa0 - 0x7f }, (_, i) => 0x7f + i), // DEL and C1: CSI U+009B, OSC U+009D, …
  0x061c, 0x200b, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e,
  0x2060, 0x2066, 0x2067, 0x2068, 0x2069, 0xfeff,
];
const RAW_UNSAFE = new RegExp(`[${UNSAFE.map((c) => `\\u${c.toString(16).padStart(4, '0')}`).join('')}]`, 'u');
/** Outside strings, JSON text may hold its own line breaks; inside none of the unsafe characters. */
const hasRawUnsafeInStrings = (json: string): boolean => RAW_UNSAFE.test(json.replace(/\n/g, ''));

describe('the characters the issue names', () => {
  it.each([
    ['ESC (a terminal escape)', 'evil\u001b[2J.example', 'evil\\u001b[2J.example'],
    ['OSC as ESC ]', 'a\u001b]8;;http://x\u0007b', 'a\\u001b]8;;http://x\\u0007b'],
    ['OSC as C1 U+009D', 'a\u009d0;title\u009cb', 'a\\u009d0;title\\u009cb'],
    ['CSI as C1 U+009B', 'a\u009b2Jb', 'a\\u009b2Jb'],
    ['NUL', 'a\u0000b', 'a\\u0000b'],
    ['CR', 'a\rb', 'a\\u000db'],
    ['U+202E (right-to-left override)', 'invoice\u202efdp.exe', 'invoice\\u202efdp.exe'],
    ['U+2066 (an isolate)', 'a\u2066b\u2069', 'a\\u2066b\\u2069'],
    ['U+2028 (line separator)', 'a\u2028b', 'a\\u2028b'],
    ['U+200B (zero-width space)', 'pay\u200bpal.example', 'pay\\u200bpal.example'],
    ['U+FEFF (byte order mark)', '\ufeffx', '\\ufeffx'],
  ])('%s: shown as \\uXXXX in text, escaped in JSON and read back unchanged', (_what, value, shown) => {
    expect(visibleText(value)).toBe(shown);
    const json = safeJson({ host: value, list: [value] }, 2);
    expect(hasRawUnsafeInStrings(json)).toBe(false);
    expect(JSON.parse(json)).toEqual({ host: value, list: [value] });
  });

  it('leaves ordinary text, other scripts, ZWNJ/ZWJ and emoji as they are', () => {
    for (const value of ['www.news.co.uk', 'bücher.example', 'Ringtones 4 U Ltd', 'می‌خواهم', '👩‍💻', 'tab\tless']) {
      if (!value.includes('\t')) expect(visibleText(value)).toBe(value);
      expect(safeJson(value)).toBe(JSON.stringify(value));
    }
  });

  it('changes JSON text only inside strings: already safe text passes unchanged', () => {
    const json = safeJson({ a: 'x\u202ey', b: [1, null, true] }, 2);
    expect(safeJsonText(json)).toBe(json);
  });
});

/** Strings mixing the unsafe characters with any other code point, lone surrogates included. */
const mixed = fc.string({ unit: fc.oneof(fc.constantFrom(...UNSAFE.map((c) => String.fromCodePoint(c))), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) });

describe('any string', () => {
  it('goes through JSON losslessly and without a raw unsafe character', () => {
    fc.assert(fc.property(mixed, (value) => {
      const json = safeJson({ value });
      expect(hasRawUnsafeInStrings(json)).toBe(false);
      expect((JSON.parse(json) as { value: string }).value).toBe(value);
    }), { numRuns: 500 });
  });

  it('as visible text holds no unsafe character', () => {
    fc.assert(fc.property(mixed, (value) => {
      expect(RAW_UNSAFE.test(visibleText(value))).toBe(false);
    }), { numRuns: 500 });
  });
});
