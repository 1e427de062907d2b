// Masks a subscriber's number wherever it appears in free text (a query string, a path), given
// the spellings the detector already derived for that number. Over-masking is the safe failure:
// a longer number that contains a spelling is masked too.

import { maskDigits } from './subscriber.js';

const NON_DIGITS = /[^0-9]/g;

/** Masked form of one spelling: its digits masked as maskNumber does, a leading '+' kept. */
function maskSpelling(spelling: string): string {
  const digits = spelling.replace(NON_DIGITS, '');
  return (spelling.startsWith('+') ? '+' : '') + maskDigits(digits);
}

// In a URL the same spelling may be percent- or form-encoded: `+44…` as `%2B44…`, a space as
// `%20` or `+`. Those variants are masked too.
function variants(spelling: string): string[] {
  const out = [spelling];
  const encoded = encodeURIComponent(spelling);
  if (encoded !== spelling) out.push(encoded, encoded.replace(/%20/g, '+'));
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Replaces every occurrence of any spelling (and its URL-encoded forms) with its masked form.
 * Spellings without a digit are ignored. Returns `text` itself when nothing matches, which is
 * the common case and costs one `includes` per spelling.
 */
export function maskNumberInText(text: string, spellings: readonly string[]): string {
  if (text.length === 0 || spellings.length === 0) return text;
  let hit = false;
  for (const s of spellings) {
    if (s.length > 0 && text.includes(s)) { hit = true; break; }
  }
  if (!hit) {
    // Encoded variants only differ from the spelling when it has '+', spaces or similar.
    for (const s of spellings) {
      for (const v of variants(s)) if (v !== s && text.includes(v)) { hit = true; break; }
      if (hit) break;
    }
    if (!hit) return text;
  }
  const masker = maskerFor(spellings);
  return masker === null ? text : text.replace(masker.pattern, masker.replace);
}

interface Masker {
  pattern: RegExp;
  replace: (match: string) => string;
}

// One subscriber's spellings recur over many requests of a session: the compiled pattern is
// kept in a small cache, emptied whole when full (no clock, no LRU bookkeeping).
const MASKER_CACHE_LIMIT = 1024;
const maskers = new Map<string, Masker | null>();

function maskerFor(spellings: readonly string[]): Masker | null {
  const cacheKey = spellings.join('\u0000');
  const cached = maskers.get(cacheKey);
  if (cached !== undefined) return cached;
  const replacement = new Map<string, string>();
  for (const s of spellings) {
    if (!/[0-9]/.test(s)) continue;
    const masked = maskSpelling(s);
    for (const v of variants(s)) {
      // An encoded '+' stays encoded in the masked form, so the text keeps its meaning.
      if (!replacement.has(v)) replacement.set(v, v.startsWith('%2B') ? '%2B' + masked.slice(1) : masked);
    }
  }
  let masker: Masker | null = null;
  if (replacement.size > 0) {
    // Longest first: at a given position the regex takes the first alternative that matches,
    // so `+447700900123` wins over `447700900123` and over `7700900123`.
    const alternatives = [...replacement.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    masker = { pattern: new RegExp(alternatives.join('|'), 'g'), replace: (m) => replacement.get(m) ?? m };
  }
  if (maskers.size >= MASKER_CACHE_LIMIT) maskers.clear();
  maskers.set(cacheKey, masker);
  return masker;
}
