// The characters no output of leakscope passes on raw (README "Output safety"): a value read
// from a log may hold a terminal escape, a bidi override that shows `exe.gnp` as `png.exe`,
// or an invisible character that makes two hosts look alike. Text formats (table, CSV, HTML,
// error messages) show each as a visible `\uXXXX`; JSON writes it as the JSON escape `\uXXXX`,
// which reads back as the same string, so JSON stays lossless.

/**
 * Beyond C0: DEL and the C1 controls (U+009B is CSI, U+009D OSC), the Unicode bidi controls
 * (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), zero-width space and word joiner
 * (U+200B, U+2060), line and paragraph separators (U+2028, U+2029) and the BOM (U+FEFF).
 * ZWNJ and ZWJ (U+200C, U+200D) are left alone: scripts such as Persian need them.
 */
const BEYOND_C0 = '\\u007f-\\u009f\\u061c\\u200b\\u200e\\u200f\\u2028-\\u202e\\u2060\\u2066-\\u2069\\ufeff';
const UNSAFE = new RegExp(`[\\u0000-\\u001f${BEYOND_C0}]`, 'g');
/** JSON.stringify already escapes C0 inside strings; outside them, C0 is only its own line breaks. */
const UNSAFE_IN_JSON = new RegExp(`[${BEYOND_C0}]`, 'g');

const escapeCode = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** The text with every unsafe character (C0 included) written as a visible `\uXXXX`. */
export function visibleText(value: string): string {
  return value.replace(UNSAFE, escapeCode);
}

/**
 * JSON text (from JSON.stringify) with the unsafe characters it leaves raw written as JSON
 * escapes. Those characters occur only inside strings, so JSON.parse gives the same value.
 */
export function safeJsonText(json: string): string {
  return json.replace(UNSAFE_IN_JSON, escapeCode);
}

/** JSON.stringify whose text holds no unsafe character: what every JSON output of leakscope writes. */
export function safeJson(value: unknown, indent?: number): string {
  return safeJsonText(JSON.stringify(value, null, indent));
}
