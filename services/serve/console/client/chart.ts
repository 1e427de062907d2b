// The hourly chart of violations (report timeline), drawn as SVG: one bar per UTC hour with
// violations, day ticks along the bottom, a title on every bar for the exact figure.
import type { ReportJson } from './api.js';
import { s } from './dom.js';
import { count, time } from './format.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WIDTH = 1000;
const HEIGHT = 200;
const LEFT = 44;
const BOTTOM = 22;
const TOP = 8;

/** A rounded-up scale maximum: 1, 2, 5 × 10^n. */
function niceMax(n: number): number {
  if (n <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * power >= n) return step * power;
  return 10 * power;
}

/**
 * The drawn range: the window, narrowed to whole days around the data when the window is far
 * wider (an "all time" window would otherwise squeeze the incident into one pixel).
 */
export function chartRange(window: { from: string; to: string }, timeline: ReportJson['timeline']): { start: number; end: number } {
  const from = Date.parse(window.from);
  const to = Date.parse(window.to);
  if (timeline.length === 0) return { start: from, end: to };
  const first = Date.parse(timeline[0]!.bucket);
  const last = Date.parse(timeline[timeline.length - 1]!.bucket) + HOUR;
  const start = Math.max(from, Math.floor(first / DAY) * DAY);
  const end = Math.min(to, Math.ceil(last / DAY) * DAY);
  return end > start ? { start, end } : { start: from, end: to };
}

export function timelineChart(window: { from: string; to: string }, timeline: ReportJson['timeline'], label: string): SVGSVGElement {
  const { start, end } = chartRange(window, timeline);
  const hours = Math.max(1, Math.ceil((end - start) / HOUR));
  const plotWidth = WIDTH - LEFT - 8;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const barWidth = plotWidth / hours;
  const max = niceMax(Math.max(0, ...timeline.map((t) => t.violations)));
  const y = (v: number) => TOP + plotHeight - (v / max) * plotHeight;

  const svg = s('svg', { class: 'timeline', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': label });
  const grid = s('g', { class: 'grid' });
  for (const v of [0, max / 2, max]) {
    grid.append(
      s('line', { x1: LEFT, x2: WIDTH - 8, y1: y(v), y2: y(v) }),
      s('text', { x: LEFT - 6, y: y(v) + 4, 'text-anchor': 'end' }, count(v)),
    );
  }
  svg.appendChild(grid);

  // Day ticks, thinned so labels never overlap (about 70 px of 1000 each).
  const days = Math.ceil((end - start) / DAY);
  const every = [1, 2, 7, 14, 30, 91, 365].find((d) => (days / d) * 70 <= plotWidth) ?? 365;
  const axis = s('g', { class: 'axis' });
  for (let t = Math.ceil(start / DAY) * DAY, i = 0; t <= end; t += DAY, i++) {
    if (i % every !== 0) continue;
    const x = LEFT + ((t - start) / HOUR) * barWidth;
    axis.append(
      s('line', { x1: x, x2: x, y1: TOP + plotHeight, y2: TOP + plotHeight + 4 }),
      // The last label is anchored at its end so it is not cut off at the right edge.
      s('text', { x, y: HEIGHT - 6, 'text-anchor': x > WIDTH - 40 ? 'end' : 'middle' }, new Date(t).toISOString().slice(5, 10)),
    );
  }
  svg.appendChild(axis);

  const bars = s('g', { class: 'bars' });
  for (const bucket of timeline) {
    const at = Date.parse(bucket.bucket);
    if (at < start || at >= end) continue;
    const top = y(bucket.violations);
    bars.appendChild(s('rect', {
      class: 'bar', x: LEFT + ((at - start) / HOUR) * barWidth, y: top, width: Math.max(barWidth * 0.85, 0.8),
      height: Math.max(TOP + plotHeight - top, 1), 'data-bucket': bucket.bucket, 'data-violations': bucket.violations,
    }, s('title', {}, `${time(bucket.bucket)}: ${count(bucket.violations)} violations`)));
  }
  svg.appendChild(bars);
  return svg;
}
