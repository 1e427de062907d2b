// The exposure report: a window, its totals, the hourly chart, and the sites that received
// identifiers (sortable, filterable); a site opens its drill-down. CSV and HTML downloads are
// the API's own files, the same the CLI writes.
import { api, type ReportJson, type SiteRow } from '../api.js';
import { timelineChart } from '../chart.js';
import { h, replace } from '../dom.js';
import { count, fileStamp, time } from '../format.js';
import type { Page, PageContext } from '../page.js';
import { empty, failed, loading } from '../states.js';
import { allTime, cards, codeList, dataTable, saveBlob, verdictChips, windowPicker } from '../widgets.js';

export function windowOf(params: URLSearchParams): { from: string; to: string } {
  const fallback = allTime();
  return { from: params.get('from') ?? fallback.from, to: params.get('to') ?? fallback.to };
}

export function downloads(context: PageContext, from: string, to: string, site?: string): HTMLElement {
  const problem = h('span', { class: 'field-error', role: 'alert' });
  const button = (format: 'csv' | 'html', label: string) => h('button', {
    type: 'button', class: 'secondary', 'data-download': format,
    onclick: async (event: Event) => {
      const b = event.currentTarget as HTMLButtonElement;
      b.disabled = true;
      problem.textContent = '';
      try {
        const blob = await api.reportFile(from, to, format, site);
        saveBlob(blob, `leakscope-report${site ? `-${site.replace(/[^a-z0-9.-]/gi, '_')}` : ''}-${fileStamp(from)}-${fileStamp(to)}.${format}`);
      } catch (error) {
        if (context.current()) problem.textContent = `Download failed: ${(error as Error).message}`;
      } finally {
        b.disabled = false;
      }
    },
  }, label);
  return h('div', { class: 'downloads' }, h('span', { class: 'label' }, 'Download'), button('csv', 'CSV'), button('html', 'HTML report'), problem);
}

function sitesTable(context: PageContext, report: ReportJson): HTMLElement {
  return dataTable<SiteRow>({
    caption: 'Sites that received subscriber identifiers in the window',
    className: 'sites',
    rows: report.sites,
    filterText: (s) => [s.site, ...s.hosts, ...s.identifiers].join(' '),
    filterLabel: 'Filter sites, hosts or identifiers',
    onRow: (s) => context.go('site', { site: s.site, from: report.window.from, to: report.window.to }),
    rowLabel: (s) => `Open ${s.site}`,
    columns: [
      { key: 'site', label: 'Site', sort: (s) => s.site, cell: (s) => h('span', { class: 'site-cell' },
        h('span', { class: 'name' }, s.site),
        h('span', { class: 'sub' }, s.hosts.length === 1 ? s.hosts[0]! : `${count(s.hosts.length)} hosts`)) },
      { key: 'subscribers', label: 'Subscribers', numeric: true, sort: (s) => s.subscribers, cell: (s) => count(s.subscribers) },
      { key: 'violations', label: 'Violations', numeric: true, sort: (s) => s.violations, cell: (s) => count(s.violations) },
      { key: 'first_seen', label: 'First seen', sort: (s) => s.first_seen, cell: (s) => time(s.first_seen) },
      { key: 'last_seen', label: 'Last seen', sort: (s) => s.last_seen, cell: (s) => time(s.last_seen) },
      { key: 'identifiers', label: 'Identifiers', cell: (s) => codeList(s.identifiers, 3) },
      { key: 'verdicts', label: 'Verdicts', cell: (s) => verdictChips(s.verdicts) },
    ],
  });
}

export const reportPage: Page = async (context) => {
  const { from, to } = windowOf(context.params);
  const picker = windowPicker({ from, to }, (f, t) => context.go('report', { from: f, to: t }));
  const body = h('div', { class: 'report-body' }, loading('the exposure report'));
  replace(context.root,
    h('header', { class: 'page-head' }, h('h1', {}, 'Exposure report'),
      h('p', { class: 'lede' }, 'Sites that received subscribers’ identifiers they were not allowed to receive, in the window.')),
    picker.element, body);
  const load = async () => {
    replace(body, loading('the exposure report'));
    let report: ReportJson;
    try {
      report = await api.report(from, to);
    } catch (error) {
      if (context.current()) replace(body, failed(error, load));
      return;
    }
    if (!context.current()) return;
    if (report.sites.length === 0) {
      replace(body, empty('No violations in this window',
        `Nothing was disclosed to a site that may not receive it between ${time(report.window.from)} and ${time(report.window.to)}. Widen the window, or scan more logs into the store.`));
      return;
    }
    replace(body,
      cards([
        ['Violations', report.totals.violations, 'requests that disclosed an identifier to a site not allowed it'],
        ['Subscribers', report.totals.subscribers, 'distinct subscribers exposed'],
        ['Sites', report.totals.sites, 'registrable domains that received them'],
      ]),
      h('section', { class: 'panel chart-panel' },
        h('div', { class: 'panel-head' }, h('h2', {}, 'Violations per hour'), h('span', { class: 'unit' }, 'UTC'),
          h('span', { class: 'range' }, `${time(report.window.from)} – ${time(report.window.to)}`)),
        timelineChart(report.window, report.timeline, `Violations per hour, ${report.timeline.length} hours with violations`)),
      h('section', { class: 'panel' },
        h('div', { class: 'panel-head' }, h('h2', {}, 'Sites'), h('span', { class: 'unit' }, 'ordered by subscribers exposed; click a site for its hosts and verdicts'),
          downloads(context, report.window.from, report.window.to)),
        sitesTable(context, report)));
  };
  await load();
};
