// A one-line progress display for long commands (`scan`): bytes read against the total, lines
// per second and time left, redrawn in place on stderr at most a few times a second. Only on
// a terminal: on a pipe or a file it writes nothing, so logs and `--json` output stay clean.
import type { ScanProgress } from '../scan/index.js';

export interface ProgressDisplay {
  update(progress: ScanProgress): void;
  /** Clears the line; call before printing the summary. */
  done(): void;
}

/** Redraw interval: often enough to look alive, rare enough to cost nothing. */
const REDRAW_MS = 200;
const BAR_WIDTH = 24;

const NO_DISPLAY: ProgressDisplay = { update() {}, done() {} };

export function createProgress(stream: NodeJS.WritableStream & { isTTY?: boolean }, now: () => number = Date.now): ProgressDisplay {
  if (stream.isTTY !== true) return NO_DISPLAY;
  let last = 0;
  let shown = false;
  return {
    update(progress) {
      const t = now();
      if (t - last < REDRAW_MS) return;
      last = t;
      shown = true;
      stream.write(`\r${formatProgress(progress)}\x1b[K`);
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}

/** The text of one progress line (no control characters). Exported for tests. */
export function formatProgress(p: ScanProgress): string {
  const seconds = Math.max(p.elapsedMs / 1000, 0.001);
  const rate = `${formatCount(Math.round(p.lines / seconds))} lines/s`;
  const parts: string[] = [];
  if (p.totalBytes !== null && p.totalBytes > 0) {
    const fraction = Math.min(1, p.bytes / p.totalBytes);
    const filled = Math.round(fraction * BAR_WIDTH);
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`);
    parts.push(`${formatBytes(p.bytes)} / ${formatBytes(p.totalBytes)}`);
    parts.push(rate);
    const bytesPerSecond = p.bytes / seconds;
    if (bytesPerSecond > 0 && fraction < 1) parts.push(`ETA ${formatDuration((p.totalBytes - p.bytes) / bytesPerSecond)}`);
  } else {
    parts.push(formatBytes(p.bytes), rate);
  }
  parts.push(`${formatCount(p.violations)} violations`);
  if (p.rejected > 0) parts.push(`${formatCount(p.rejected)} rejected`);
  return parts.join('  ');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-GB');
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}
