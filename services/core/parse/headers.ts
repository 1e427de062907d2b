// Header names as the core sees them: lower-case (HTTP names are case-insensitive). Logs
// repeat the same few dozen names on every line, so the lower-casing is memoised.

/** Bounded so that a log full of made-up names cannot grow memory; cleared when full. */
const CACHE_LIMIT = 4096;
const lowerCache = new Map<string, string>();

export function lowerHeaderName(name: string): string {
  let lower = lowerCache.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowerCache.size >= CACHE_LIMIT) lowerCache.clear();
    lowerCache.set(name, lower);
  }
  return lower;
}
