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
  const replacement = new Map<string, string>();
  for (const s of spellings) {
    if (!/[0-9]/.test(s)) continue;
    const masked = maskSpelling(s);
    for (const v of variants(s)) {
      // An encoded '+' stays encoded in the masked form, so the text keeps its meaning.
      if (!replacement.has(v)) replacement.set(v, v.startsWith('%2B') ? '%2B' + masked.slice(1) : masked);
    }
  }
  if (replacement.size === 0) return text;
  // Longest first: at a given position the regex takes the first alternative that matches,
  // so `+447700900123` wins over `447700900123` and over `7700900123`.
  const alternatives = [...replacement.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
  return text.replace(new RegExp(alternatives.join('|'), 'g'), (m) => replacement.get(m) ?? m);
}
