// The `html` format of report: one self-contained file (inline CSS, an inline SVG chart drawn
// here, no script, no network) that an investigator can attach to a ticket or send to a
// regulator. Every value from the data passes through `escapeHtml`; a Content-Security-Policy
// forbids scripts and remote loads as well, in case a value ever escaped that.
import type { ReportJson } from '../store/answers.js';
import type { Verdict } from '../core/types.js';
import { verdictTotals } from './summary.js';
import { cleanText, compactTime, groupDigits } from './text.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe in HTML and SVG element content and in quoted attribute values. */
export function escapeHtml(value: string | number): string {
  // Control characters are shown as `\uXXXX`, never passed on: a bidi override (U+202E)
  // would make a host read as another in the page a regulator is sent.
  return cleanText(String(value)).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export interface ReportHtmlOptions {
  /** The site the report was narrowed to with --site. */
  site?: string | undefined;
  /** Where the data came from (the DuckDB path or the ClickHouse URL without password), shown in the footer. */
  source?: string | undefined;
}

const HOUR_MS = 3_600_000;

/** Most serious first: nobody may receive, then a partner over-served, then a lapsed partner. */
const SHOWN_VERDICTS: readonly Verdict[] = ['unauthorized_recipient', 'identifier_not_allowed', 'partner_inactive'];

const VERDICT_LABEL: Record<Verdict, string> = {
  authorized: 'authorised',
  unauthorized_recipient: 'unauthorised recipient',
  identifier_not_allowed: 'identifier not allowed',
  partner_inactive: 'partner inactive',
};

const VERDICT_HELP: Record<Verdict, string> = {
  authorized: 'a valid partner allowed every channel',
  unauthorized_recipient: 'no partner’s domain matches the host',
  identifier_not_allowed: 'a valid partner, but a channel it may not receive',
  partner_inactive: 'a partner’s domain, outside its validity period',
};

// Geometry of the chart, in SVG user units (the SVG scales to the page width).
const CHART = { width: 960, height: 260, left: 56, right: 16, top: 16, bottom: 44 } as const;

/** A step of 1, 2 or 5 times a power of ten, at least 1, giving at most `maxTicks` ticks up to `max`. */
function niceStep(max: number, maxTicks: number): number {
  const rough = Math.max(1, max / maxTicks);
  const power = 10 ** Math.floor(Math.log10(rough));
  for (const m of [1, 2, 5, 10]) if (m * power >= rough) return m * power;
  return 10 * power;
}

// Tick spacings for the time axis, in hours; the smallest giving at most 10 labels is used.
const TIME_TICK_HOURS = [1, 2, 3, 6, 12, 24, 48, 72, 168, 336, 720, 2160, 8760];

function timeLabel(ms: number, tickHours: number): string {
  const iso = new Date(ms).toISOString();
  return tickHours >= 24 ? iso.slice(0, 10) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

/** The hourly timeline as an SVG bar chart: one `rect.bar` per hour that has violations. */
export function timelineSvg(report: ReportJson): string {
  const { width, height, left, right, top, bottom } = CHART;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const from = Date.parse(report.window.from);
  const to = Date.parse(report.window.to);
  const start = Math.floor(from / HOUR_MS) * HOUR_MS; // buckets are whole UTC hours
  const slots = Math.max(1, Math.ceil((to - start) / HOUR_MS));
  const slotWidth = plotWidth / slots;
  const barWidth = slotWidth >= 4 ? slotWidth * 0.8 : Math.max(slotWidth, 1);
  const max = Math.max(1, ...report.timeline.map((b) => b.violations));
  const step = niceStep(max, 4);
  const yMax = Math.ceil(max / step) * step;
  const y = (v: number) => top + plotHeight - (v / yMax) * plotHeight;
  const x = (ms: number) => left + ((ms - start) / HOUR_MS) * slotWidth;
  const f = (n: number) => (Math.round(n * 100) / 100).toString();

  const parts: string[] = [];
  for (let v = 0; v <= yMax; v += step) {
    parts.push(`<line class="grid" x1="${left}" x2="${width - right}" y1="${f(y(v))}" y2="${f(y(v))}"/>`);
    parts.push(`<text class="ylabel" x="${left - 8}" y="${f(y(v) + 4)}" text-anchor="end">${escapeHtml(groupDigits(v))}</text>`);
  }
  const tickHours = TIME_TICK_HOURS.find((h) => slots / h <= 10) ?? Math.ceil(slots / 10);
  const tickMs = tickHours * HOUR_MS;
  for (let t = Math.ceil(start / tickMs) * tickMs; t <= to; t += tickMs) {
    const tx = f(x(t));
    parts.push(`<line class="tick" x1="${tx}" x2="${tx}" y1="${top + plotHeight}" y2="${top + plotHeight + 5}"/>`);
    parts.push(`<text class="xlabel" x="${tx}" y="${top + plotHeight + 20}" text-anchor="middle">${escapeHtml(timeLabel(t, tickHours))}</text>`);
  }
  for (const b of report.timeline) {
    const ms = Date.parse(b.bucket);
    const bx = x(ms) + (slotWidth - barWidth) / 2;
    const by = y(b.violations);
    const label = `${compactTime(b.bucket).slice(0, 16)} UTC: ${groupDigits(b.violations)} violation${b.violations === 1 ? '' : 's'}`;
    parts.push(`<rect class="bar" x="${f(bx)}" y="${f(by)}" width="${f(barWidth)}" height="${f(top + plotHeight - by)}" ` +
      `data-bucket="${escapeHtml(b.bucket)}" data-violations="${b.violations}"><title>${escapeHtml(label)}</title></rect>`);
  }
  parts.push(`<line class="axis" x1="${left}" x2="${width - right}" y1="${top + plotHeight}" y2="${top + plotHeight}"/>`);
  parts.push(`<text class="axis-title" x="${left + plotWidth / 2}" y="${height - 6}" text-anchor="middle">hour (UTC)</text>`);
  const summary = `Violations per hour from ${report.window.from} to ${report.window.to}: ${report.timeline.length} hours with violations, at most ${max} in one hour.`;
  return `<svg class="timeline" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(summary)}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}

const CSS = `
:root{--ink:#1c2430;--muted:#5b6573;--line:#dfe3e8;--bg:#f6f7f9;--card:#fff;--accent:#b3261e;
  --v-unauthorized_recipient:#b3261e;--v-identifier_not_allowed:#c7660a;--v-partner_inactive:#6b3fa0;--v-authorized:#2e7d32}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:28px 28px 40px}
header h1{font-size:22px;margin:0 0 4px;font-weight:650;letter-spacing:-.01em}
header p{margin:0;color:var(--muted)}
.mono,td.time,td.num{font-variant-numeric:tabular-nums}
.cards{display:grid;grid-template-columns:repeat(3,1fr);gap:14px;margin:22px 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 18px}
.card .value{font-size:28px;font-weight:650;line-height:1.1}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.06em}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px 18px;margin:0 0 18px}
section h2{font-size:15px;margin:0 0 10px;font-weight:650}
.verdicts{display:flex;flex-wrap:wrap;gap:10px 22px;margin:0;padding:0;list-style:none}
.verdicts li{display:flex;align-items:center;gap:8px}
.dot{width:10px;height:10px;border-radius:2px;display:inline-block}
.verdicts .count{font-weight:650}
.verdicts .help{color:var(--muted);font-size:12px}
svg.timeline{width:100%;height:auto;display:block}
svg .bar{fill:var(--accent)}
svg .grid{stroke:#eceff3;stroke-width:1}
svg .axis,svg .tick{stroke:#9aa3ad;stroke-width:1}
svg text{fill:var(--muted);font-size:11px;font-family:inherit}
svg .axis-title{font-size:11px}
.empty{color:var(--muted);margin:6px 0}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.04em;background:#fafbfc;position:sticky;top:0}
td.num,th.num{text-align:right}
.scroll{overflow-x:auto}
td.site{min-width:180px;max-width:320px;overflow-wrap:anywhere}
td.site .name{font-weight:600}
td.site .hosts,td.ids{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11.5px;color:#4a5461}
td.site .hosts{margin-top:2px}
td.ids{white-space:nowrap}
td.time{white-space:nowrap;font-size:12.5px}
td.time .last{color:var(--muted)}
.chips{display:flex;flex-wrap:wrap;gap:4px;min-width:140px}
.chip{padding:1px 8px;border-radius:10px;font-size:11.5px;line-height:18px;color:#fff;white-space:nowrap}
footer{color:var(--muted);font-size:12px;margin-top:18px}
@media print{body{background:#fff}section,.card{border-color:#ccc}}
`;

// Short chip labels keep a site's row to one or two lines; the colour and the legend above name the verdict in full.
const VERDICT_SHORT: Record<Verdict, string> = {
  authorized: 'authorised',
  unauthorized_recipient: 'unauthorised',
  identifier_not_allowed: 'not allowed',
  partner_inactive: 'inactive',
};

function verdictChip(verdict: Verdict, count: number): string {
  return `<span class="chip" title="${escapeHtml(VERDICT_LABEL[verdict])}" style="background:var(--v-${verdict})">` +
    `${escapeHtml(VERDICT_SHORT[verdict])} ${escapeHtml(groupDigits(count))}</span>`;
}

/** The whole report as one HTML document. */
export function renderReportHtml(report: ReportJson, options: ReportHtmlOptions = {}): string {
  const title = options.site === undefined ? 'Exposure report' : `Exposure report for ${options.site}`;
  const totals = verdictTotals(report);
  const window = `${compactTime(report.window.from)} to ${compactTime(report.window.to)}`;

  const cards = [
    [report.totals.violations, 'violations', 'requests that disclosed a subscriber to a site not allowed to receive it'],
    [report.totals.subscribers, 'subscribers exposed', 'distinct subscribers in those requests'],
    [report.totals.sites, 'sites', 'registrable domains that received them'],
  ] as const;
  const cardsHtml = cards.map(([n, label, help]) =>
    `<div class="card" title="${escapeHtml(help)}"><div class="value mono">${escapeHtml(groupDigits(n))}</div><div class="label">${escapeHtml(label)}</div></div>`).join('');

  const verdictItems = SHOWN_VERDICTS.map((v) =>
    `<li><span class="dot" style="background:var(--v-${v})"></span><span class="count mono">${escapeHtml(groupDigits(totals[v]))}</span>` +
    `<span>${escapeHtml(VERDICT_LABEL[v])}</span><span class="help">${escapeHtml(VERDICT_HELP[v])}</span></li>`).join('');

  const chart = report.timeline.length === 0 ? '<p class="empty">No violations in this window.</p>' : timelineSvg(report);

  const rows = report.sites.map((s) => {
    const chips = SHOWN_VERDICTS.filter((v) => (s.verdicts[v] ?? 0) > 0).map((v) => verdictChip(v, s.verdicts[v]!)).join('');
    return '<tr>' +
      `<td class="site"><div class="name">${escapeHtml(s.site)}</div><div class="hosts">${s.hosts.map(escapeHtml).join('<br>')}</div></td>` +
      `<td class="num">${escapeHtml(groupDigits(s.subscribers))}</td>` +
      `<td class="num">${escapeHtml(groupDigits(s.violations))}</td>` +
      `<td class="time"><div>${escapeHtml(compactTime(s.first_seen))}</div><div class="last">${escapeHtml(compactTime(s.last_seen))}</div></td>` +
      `<td class="ids">${s.identifiers.map(escapeHtml).join('<br>')}</td>` +
      `<td><div class="chips">${chips}</div></td>` +
      '</tr>';
  }).join('\n');
  const table = report.sites.length === 0 ? '<p class="empty">No site received an identifier it was not allowed to receive.</p>'
    : '<div class="scroll"><table class="sites"><thead><tr><th>Site and hosts</th><th class="num">Subscribers</th><th class="num">Violations</th>' +
      '<th>First and last seen</th><th>Identifiers</th><th>Verdicts</th></tr></thead>' +
      `<tbody>\n${rows}\n</tbody></table></div>`;

  const source = options.source === undefined ? '' : ` from ${escapeHtml(options.source)}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`leakscope: ${title}, ${window}`)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(title)}</h1>
<p>Window <span class="mono window">${escapeHtml(window)}</span> (UTC, end excluded)</p>
</header>
<div class="cards">${cardsHtml}</div>
<section><h2>Violations by verdict</h2><ul class="verdicts">${verdictItems}</ul></section>
<section><h2>Violations per hour</h2>${chart}</section>
<section><h2>Sites (${escapeHtml(groupDigits(report.sites.length))})</h2>${table}</section>
<footer>Generated by leakscope${source}. Counts are of violating requests and distinct subscribers; sites are registrable domains, hosts as they travel on the wire (IDNs in punycode). A violation is a disclosure whose verdict is not authorised.</footer>
</main>
</body>
</html>
`;
}
