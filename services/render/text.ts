// Plain-text building blocks of the table format: aligned columns, thousands separators,
// compact UTC times, and a sparkline of the hourly timeline. Everything that reaches a terminal
// passes through `cleanText`, so a hostile value from a log cannot send control sequences.
import { visibleText } from '../core/visible-text.js';

/** Control, bidi and invisible characters (core/visible-text.ts) shown as a visible `\uXXXX`. */
export const cleanText = visibleText;

/** 1234567 → `1,234,567`; deterministic whatever the locale. */
export function groupDigits(n: number): string {
  const sign = n < 0 ? '-' : '';
  const digits = String(Math.abs(Math.trunc(n)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `2012-01-10T09:31:02.123Z` → `2012-01-10 09:31:02Z` (a table needs no milliseconds). */
export function compactTime(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]}Z` : iso;
}

export interface Column {
  header: string;
  /** Numbers read best right-aligned. */
  align?: 'left' | 'right';
}

/**
 * Lines of an aligned table: two spaces between columns, the header row, a rule under it.
 * Widths count code points, which is exact for the ASCII hosts and channels we store.
 */
export function alignTable(columns: readonly Column[], rows: ReadonlyArray<ReadonlyArray<string>>): string[] {
  const cells = rows.map((row) => row.map(cleanText));
  const widths = columns.map((c, i) => Math.max([...c.header].length, ...cells.map((r) => [...(r[i] ?? '')].length)));
  const line = (values: readonly string[]) =>
    values.map((v, i) => {
      const pad = widths[i]! - [...v].length;
      return columns[i]!.align === 'right' ? ' '.repeat(pad) + v : v + ' '.repeat(pad);
    }).join('  ').trimEnd();
  return [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
}

const HOUR_MS = 3_600_000;
const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
// Bin sizes a reader can name, smallest first; the first giving at most `maxColumns` columns is used.
const BIN_HOURS = [1, 2, 3, 6, 12, 24, 48, 168, 336, 720];

export interface Sparkline {
  line: string;
  /** Hours per character. */
  binHours: number;
  /** Most violations in one character. */
  max: number;
}

/**
 * The hourly timeline as one line of block characters over the whole window: one character per
 * bin, a space for a bin without violations, at least `▁` for any bin with some, so a single
 * leak is never drawn as nothing.
 */
export function sparkline(
  window: { from: number; to: number },
  timeline: ReadonlyArray<{ bucket: number; violations: number }>,
  maxColumns = 72,
): Sparkline {
  const hours = Math.max(1, Math.ceil((window.to - window.from) / HOUR_MS));
  const binHours = BIN_HOURS.find((b) => Math.ceil(hours / b) <= maxColumns) ?? Math.ceil(hours / maxColumns);
  const columns = Math.ceil(hours / binHours);
  const bins = new Array<number>(columns).fill(0);
  for (const { bucket, violations } of timeline) {
    // Buckets are UTC hours; a window that starts mid-hour puts its first bucket before `from`.
    const index = Math.min(columns - 1, Math.max(0, Math.floor((bucket - window.from) / (binHours * HOUR_MS))));
    bins[index]! += violations;
  }
  const max = Math.max(0, ...bins);
  const line = bins.map((v) => (v === 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.ceil((v / max) * BARS.length) - 1)]!)).join('');
  return { line, binHours, max };
}

export function describeHours(hours: number): string {
  if (hours % 168 === 0) return hours === 168 ? 'week' : `${hours / 168} weeks`;
  if (hours % 24 === 0) return hours === 24 ? 'day' : `${hours / 24} days`;
  return hours === 1 ? 'hour' : `${hours} hours`;
}
