// One site of the report: its hosts, the identifiers it received, the verdicts, and its own
// hourly chart, for the window the report was opened with.
import { api, type ReportJson, type Verdict } from '../api.js';
import { timelineChart } from '../chart.js';
import { h, replace, s } from '../dom.js';
import { count, day, time, VERDICT_LABEL, VERDICT_ORDER } from '../format.js';
import type { Page } from '../page.js';
import { empty, failed, loading } from '../states.js';
import { cards, dataTable, verdictChip } from '../widgets.js';
import { downloads, windowOf } from './report.js';

function verdictBar(verdicts: Partial<Record<Verdict, number>>): SVGSVGElement {
  const total = VERDICT_ORDER.reduce((n, v) => n + (verdicts[v] ?? 0), 0) || 1;
  const svg = s('svg', { class: 'verdict-bar', viewBox: '0 0 1000 16', preserveAspectRatio: 'none', role: 'img', 'aria-label': 'Share of each verdict' });
  let x = 0;
  for (const v of VERDICT_ORDER) {
    const n = verdicts[v] ?? 0;
    if (n === 0) continue;
    const width = (n / total) * 1000;
    svg.appendChild(s('rect', { class: `seg ${v.replaceAll('_', '-')}`, x, y: 0, width, height: 16 }, s('title', {}, `${VERDICT_LABEL[v]}: ${count(n)}`)));
    x += width;
  }
  return svg;
}

export const sitePage: Page = async (context) => {
  const { from, to } = windowOf(context.params);
  const site = context.params.get('site') ?? '';
  const back = h('a', { href: `#/report?${new URLSearchParams({ from, to })}`, class: 'back' }, '← Exposure report');
  const title = h('h1', { class: 'site-title' }, site);
  const body = h('div', {}, loading(`the report for ${site}`));
  replace(context.root, back, h('header', { class: 'page-head' }, title,
    h('p', { class: 'lede' }, `${time(from)} – ${time(to)}`)), body);
  if (!site) {
    replace(body, empty('No site chosen', 'Open a site from the exposure report.'));
    return;
  }
  const load = async () => {
    replace(body, loading(`the report for ${site}`));
    let report: ReportJson;
    try {
      report = await api.report(from, to, site);
    } catch (error) {
      if (context.current()) replace(body, failed(error, load));
      return;
    }
    if (!context.current()) return;
    const row = report.sites[0];
    if (!row) {
      replace(body, empty(`No violations for ${site} in this window`, 'The site may have received identifiers only as an authorised partner, or outside the window.'));
      return;
    }
    title.textContent = row.site;
    replace(body,
      cards([
        ['Subscribers', row.subscribers, 'distinct subscribers exposed'],
        ['Violations', row.violations, 'violating requests'],
        ['Hosts', row.hosts.length, 'host names of the site'],
        ['First seen', day(row.first_seen), `${time(row.first_seen).slice(11)}; last ${time(row.last_seen)}`],
      ]),
      h('section', { class: 'panel chart-panel' },
        h('div', { class: 'panel-head' }, h('h2', {}, 'Violations per hour'), h('span', { class: 'unit' }, 'UTC')),
        timelineChart(report.window, report.timeline, `Violations per hour for ${row.site}`)),
      h('div', { class: 'columns' },
        h('section', { class: 'panel' },
          h('div', { class: 'panel-head' }, h('h2', {}, 'Verdicts')),
          verdictBar(row.verdicts),
          h('ul', { class: 'verdict-list' }, ...VERDICT_ORDER.filter((v) => (row.verdicts[v] ?? 0) > 0).map((v) =>
            h('li', {}, verdictChip(v), h('span', { class: 'num' }, count(row.verdicts[v] ?? 0)))))),
        h('section', { class: 'panel' },
          h('div', { class: 'panel-head' }, h('h2', {}, 'Identifiers received'), h('span', { class: 'unit' }, 'channels: header:<name>, url, referer')),
          h('ul', { class: 'identifier-list' }, ...row.identifiers.map((i) => h('li', {}, h('code', {}, i)))))),
      h('section', { class: 'panel' },
        h('div', { class: 'panel-head' }, h('h2', {}, 'Hosts'), downloads(context, report.window.from, report.window.to, row.site)),
        dataTable<string>({
          caption: `Hosts of ${row.site}`, className: 'hosts', rows: row.hosts, filterText: (host) => host, filterLabel: 'Filter hosts',
          sortBy: { key: 'host', descending: false },
          columns: [{ key: 'host', label: 'Host', sort: (host) => host, cell: (host) => h('span', { class: 'host' }, host) }],
        })));
  };
  await load();
};
