// The `table` format of report and who-saw: what an investigator reads in a terminal. It shows
// the same facts as the JSON, rounded for reading (times to the second, long lists shortened);
// the JSON, CSV and HTML formats carry everything.
import type { ReportJson, WhoSawJson } from '../store/answers.js';
import { alignTable, cleanText, compactTime, describeHours, groupDigits, sparkline } from './text.js';
import { VIOLATION_VERDICTS } from './csv.js';
import { verdictTotals } from './summary.js';

export interface ReportTableOptions {
  /** The site the report was narrowed to with --site, shown in the heading. */
  site?: string | undefined;
  /** Sites listed before "… and N more" (default 50). */
  maxSites?: number;
  /** Hosts listed in a site's row before "+N" (default 3). */
  maxHosts?: number;
}

function shortList(values: readonly string[], max: number): string {
  return values.length <= max ? values.join(' ') : `${values.slice(0, max).join(' ')} +${values.length - max}`;
}

function verdictCell(verdicts: ReportJson['sites'][number]['verdicts']): string {
  return VIOLATION_VERDICTS.filter((v) => (verdicts[v] ?? 0) > 0).map((v) => `${v} ${verdicts[v]}`).join(', ');
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${groupDigits(n)} ${n === 1 ? one : many}`;
}

export function renderReportTable(report: ReportJson, options: ReportTableOptions = {}): string {
  const maxSites = options.maxSites ?? 50;
  const maxHosts = options.maxHosts ?? 3;
  const from = Date.parse(report.window.from);
  const to = Date.parse(report.window.to);
  const out: string[] = [];
  out.push('leakscope exposure report');
  out.push(`  window    ${compactTime(report.window.from)} to ${compactTime(report.window.to)}  (UTC, end excluded)`);
  if (options.site !== undefined) out.push(`  site      ${cleanText(options.site)}`);
  out.push(`  totals    ${plural(report.totals.violations, 'violation')} · ${plural(report.totals.subscribers, 'subscriber')} · ${plural(report.totals.sites, 'site')}`);
  const totals = verdictTotals(report);
  const verdictLine = VIOLATION_VERDICTS.filter((v) => totals[v] > 0).map((v) => `${v} ${groupDigits(totals[v])}`).join(' · ');
  out.push(`  verdicts  ${verdictLine === '' ? 'none' : verdictLine}`);

  if (report.timeline.length > 0) {
    const spark = sparkline({ from, to }, report.timeline.map((b) => ({ bucket: Date.parse(b.bucket), violations: b.violations })));
    out.push('');
    out.push(`Violations per ${describeHours(spark.binHours)} (highest ${groupDigits(spark.max)}):`);
    out.push(`  |${spark.line}|`);
    const left = compactTime(report.window.from).slice(0, 10);
    const right = compactTime(report.window.to).slice(0, 10);
    const gap = Math.max(1, spark.line.length + 2 - left.length - right.length);
    out.push(`  ${left}${' '.repeat(gap)}${right}`);
  }

  out.push('');
  if (report.sites.length === 0) {
    out.push('No violations in this window.');
    return out.join('\n') + '\n';
  }
  const shown = report.sites.slice(0, maxSites);
  out.push(...alignTable(
    [
      { header: 'SITE' }, { header: 'SUBSCRIBERS', align: 'right' }, { header: 'VIOLATIONS', align: 'right' },
      { header: 'FIRST SEEN' }, { header: 'LAST SEEN' }, { header: 'IDENTIFIERS' }, { header: 'VERDICTS' }, { header: 'HOSTS' },
    ],
    shown.map((s) => [
      s.site, String(s.subscribers), String(s.violations), compactTime(s.first_seen), compactTime(s.last_seen),
      s.identifiers.join(' '), verdictCell(s.verdicts), shortList(s.hosts, maxHosts),
    ]),
  ));
  if (report.sites.length > shown.length) {
    out.push(`… and ${plural(report.sites.length - shown.length, 'more site')} (--format csv, json or html lists them all)`);
  }
  return out.join('\n') + '\n';
}

export function renderWhoSawTable(answer: WhoSawJson): string {
  const out: string[] = [];
  out.push(`Who saw ${cleanText(answer.subscriber)}`);
  const { from, to } = answer.window;
  const window = from === null && to === null ? 'all stored time'
    : `${from === null ? 'the beginning' : compactTime(from)} to ${to === null ? 'now' : compactTime(to)}  (UTC, end excluded)`;
  out.push(`  window      ${window}`);
  const sites = new Set(answer.recipients.map((r) => r.site)).size;
  const violations = answer.recipients.filter((r) => r.verdict !== 'authorized').reduce((n, r) => n + r.requests, 0);
  const requests = answer.recipients.reduce((n, r) => n + r.requests, 0);
  out.push(`  recipients  ${plural(sites, 'site')}, ${plural(requests, 'request')}, of which ${plural(violations, 'violation')}`);
  out.push('');
  if (answer.recipients.length === 0) {
    out.push('No site received this number in the window.');
    return out.join('\n') + '\n';
  }
  out.push(...alignTable(
    [
      { header: 'FIRST SEEN' }, { header: 'LAST SEEN' }, { header: 'SITE' }, { header: 'HOST' }, { header: 'VERDICT' },
      { header: 'PARTNER' }, { header: 'REQUESTS', align: 'right' }, { header: 'IDENTIFIERS' },
    ],
    answer.recipients.map((r) => [
      compactTime(r.first_seen), compactTime(r.last_seen), r.site, r.host, r.verdict, r.partner ?? '-', String(r.requests), r.identifiers.join(' '),
    ]),
  ));
  return out.join('\n') + '\n';
}
