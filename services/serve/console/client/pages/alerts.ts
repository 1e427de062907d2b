// Recent alerts, newest first: the first violation for a site, an incident spreading over many
// sites, a partner receiving what it may not, a lapsed partner receiving identifiers.
import { api, type Alert } from '../api.js';
import { h, replace } from '../dom.js';
import { count, fromInput, time, toInput, TIME_PLACEHOLDER } from '../format.js';
import type { Page } from '../page.js';
import { empty, failed, loading } from '../states.js';
import { codeList, dataTable, verdictChip } from '../widgets.js';

const KIND_LABEL: Record<string, string> = {
  first_disclosure: 'first disclosure', spread: 'spread (incident)', partner_drift: 'partner drift', partner_inactive: 'partner inactive',
};

function what(alert: Alert): Node {
  if (alert.kind === 'spread') {
    return h('span', { class: 'site-cell' }, h('span', { class: 'name' }, `${count(alert.count)} sites`),
      h('span', { class: 'sub' }, alert.sites.slice(0, 4).join(', ') + (alert.sites.length > 4 ? ', …' : '')));
  }
  return h('span', { class: 'site-cell' }, h('span', { class: 'name' }, alert.site ?? '—'), h('span', { class: 'sub' }, alert.host ?? ''));
}

export const alertsPage: Page = async (context) => {
  const since = context.params.get('since');
  const input = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', placeholder: TIME_PLACEHOLDER, class: 'time', id: 'since', name: 'since', value: since ? toInput(since) : '' });
  const problem = h('p', { class: 'field-error', role: 'alert' });
  const body = h('div', {}, loading('the alerts'));
  replace(context.root,
    h('header', { class: 'page-head' }, h('h1', {}, 'Alerts'), h('p', { class: 'lede' }, 'What the detector raised, newest first.')),
    h('form', {
      class: 'window', 'aria-label': 'Alerts since',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const at = input.value.trim() ? fromInput(input.value) : '';
        if (at === null) problem.textContent = 'Give the time as YYYY-MM-DD or YYYY-MM-DD HH:MM (UTC), or leave it empty.';
        else context.go('alerts', { since: at || null });
      },
    }, h('label', { for: 'since' }, 'Since', h('span', { class: 'unit' }, 'UTC, optional')), input, h('button', { type: 'submit' }, 'Show'), problem),
    body);
  const load = async () => {
    replace(body, loading('the alerts'));
    let alerts: Alert[];
    let source: string;
    try {
      ({ alerts, source } = await api.alerts(since ?? undefined));
    } catch (error) {
      if (context.current()) replace(body, failed(error, load));
      return;
    }
    if (!context.current()) return;
    if (alerts.length === 0) {
      replace(body, empty('No alerts', since ? `Nothing was raised since ${time(since)}.` : 'The detector has raised no alert for the data in this store.'));
      return;
    }
    replace(body, h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', {}, `${count(alerts.length)} alerts`), h('span', { class: 'unit' }, `from ${source}`)), dataTable<Alert>({
      caption: 'Recent alerts', className: 'alerts', rows: alerts,
      filterText: (a) => [a.kind, a.site ?? '', a.host ?? '', a.partner_id ?? '', ...a.sites, ...a.channels].join(' '),
      filterLabel: 'Filter alerts',
      columns: [
        // Raised and first seen share a cell: nine columns do not fit a laptop's width.
        { key: 'detected_at', label: 'Raised', sort: (a) => a.detected_at, cell: (a) => h('span', { class: 'site-cell' },
          h('span', {}, time(a.detected_at)), h('span', { class: 'sub' }, `first seen ${time(a.first_seen)}`)) },
        { key: 'kind', label: 'Kind', sort: (a) => a.kind, cell: (a) => h('span', { class: `chip kind ${a.kind.replaceAll('_', '-')}` }, KIND_LABEL[a.kind] ?? a.kind) },
        { key: 'site', label: 'Site', sort: (a) => a.site ?? '', cell: what },
        { key: 'verdict', label: 'Verdict', cell: (a) => (a.verdict ? verdictChip(a.verdict) : '—') },
        { key: 'partner', label: 'Partner', cell: (a) => a.partner_id ?? '—' },
        { key: 'channels', label: 'Identifiers', cell: (a) => codeList(a.channels, 3) },
        { key: 'subscriber', label: 'Subscriber', cell: (a) => h('span', { class: 'masked' }, a.subscriber_masked ?? '—') },
      ],
    })));
  };
  await load();
};
