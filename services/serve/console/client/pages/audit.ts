// The audit: who looked up whose data, when, why, and how much they got back. Privacy
// officers (and admins) only; the trail holds a keyed hash of each subscriber, never a number.
import { api, roleAtLeast, type AuditEntry } from '../api.js';
import { h, replace } from '../dom.js';
import { count, fileStamp, fromInput, time, toInput, TIME_PLACEHOLDER } from '../format.js';
import type { Page } from '../page.js';
import { empty, failed, loading, notAllowed } from '../states.js';
import { dataTable, saveBlob } from '../widgets.js';

export const auditPage: Page = async (context) => {
  const head = h('header', { class: 'page-head' }, h('h1', {}, 'Audit'),
    h('p', { class: 'lede' }, 'Every lookup of a subscriber and every export of the notification list, hash-chained so a change shows.'));
  if (!roleAtLeast(context.session.role, 'privacy_officer')) {
    replace(context.root, head, notAllowed(context.session.role, 'privacy_officer', 'Reading the audit'));
    return;
  }
  const from = context.params.get('from');
  const to = context.params.get('to');
  const fromInputEl = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', placeholder: TIME_PLACEHOLDER, class: 'time', id: 'audit-from', name: 'from', value: from ? toInput(from) : '' });
  const toInputEl = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', placeholder: TIME_PLACEHOLDER, class: 'time', id: 'audit-to', name: 'to', value: to ? toInput(to) : '' });
  const problem = h('p', { class: 'field-error', role: 'alert' });
  const body = h('div', {}, loading('the audit'));
  replace(context.root, head, exportPanel(context.session.name, () => void load()),
    h('form', {
      class: 'window', 'aria-label': 'Audit window',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const f = fromInputEl.value.trim() ? fromInput(fromInputEl.value) : '';
        const t = toInputEl.value.trim() ? fromInput(toInputEl.value) : '';
        if (f === null || t === null) problem.textContent = 'Give times as YYYY-MM-DD or YYYY-MM-DD HH:MM (UTC), or leave them empty.';
        else if (f && t && f >= t) problem.textContent = 'The window must end after it starts.';
        else context.go('audit', { from: f || null, to: t || null });
      },
    },
    h('label', { for: 'audit-from' }, 'From', h('span', { class: 'unit' }, 'UTC, optional')), fromInputEl,
    h('label', { for: 'audit-to' }, 'To', h('span', { class: 'unit' }, 'UTC, optional')), toInputEl,
    h('button', { type: 'submit' }, 'Show'), problem),
    body);
  async function load(): Promise<void> {
    replace(body, loading('the audit'));
    let entries: AuditEntry[];
    try {
      entries = await api.audit(from ?? undefined, to ?? undefined);
    } catch (error) {
      if (context.current()) replace(body, failed(error, load));
      return;
    }
    if (!context.current()) return;
    if (entries.length === 0) {
      replace(body, empty('No audit entries', 'Nobody has looked up a subscriber or exported the notification list in this period.'));
      return;
    }
    // Newest first: the entry just made is the one a reader looks for.
    const rows = [...entries].reverse();
    replace(body, h('section', { class: 'panel' }, dataTable<AuditEntry>({
      caption: 'Audit entries, newest first', className: 'audit', rows,
      filterText: (e) => [e.actor, e.role, e.action, e.reason, e.subscriber_hash ?? ''].join(' '),
      filterLabel: 'Filter by actor, action, reason or hash',
      columns: [
        { key: 'at', label: 'At', sort: (e) => e.at, cell: (e) => time(e.at) },
        { key: 'actor', label: 'Actor', sort: (e) => e.actor, cell: (e) => h('span', { class: 'site-cell' }, h('span', { class: 'name' }, e.actor), h('span', { class: 'sub' }, e.role)) },
        { key: 'action', label: 'Action', sort: (e) => e.action, cell: (e) => h('span', { class: 'chip kind' }, e.action) },
        { key: 'reason', label: 'Reason', cell: (e) => h('span', { class: 'reason' }, e.reason) },
        { key: 'subscriber', label: 'Subscriber (hash)', cell: (e) => (e.subscriber_hash ? h('code', { class: 'hash', title: e.subscriber_hash }, `${e.subscriber_hash.slice(0, 12)}…`) : '—') },
        { key: 'window', label: 'Window', cell: (e) => (e.window && (e.window.from || e.window.to) ? `${time(e.window.from)} – ${time(e.window.to)}` : 'all time') },
        { key: 'results', label: 'Results', numeric: true, sort: (e) => e.results, cell: (e) => count(e.results) },
      ],
    })));
  }
  await load();
};

/**
 * Export of the notification list (every subscriber with a violation in the window, numbers in
 * clear) as the CSV `leakscope export-affected` writes: a window and a reason, both required;
 * the export is audited before the file is given, so the list below shows it at once.
 */
function exportPanel(user: string, exported: () => void): HTMLElement {
  const input = (id: string) => h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', placeholder: TIME_PLACEHOLDER, class: 'time', id, name: id, required: true });
  const fromEl = input('affected-from');
  const toEl = input('affected-to');
  const reason = h('input', { type: 'text', id: 'affected-reason', name: 'reason', required: true, maxlength: 500, autocomplete: 'off', placeholder: 'Notification NOT-7 to the regulator' });
  const button = h('button', { type: 'submit' }, 'Download CSV');
  const status = h('p', { class: 'field-error', role: 'alert', id: 'affected-status' });
  return h('section', { class: 'panel', 'aria-labelledby': 'affected-title' },
    h('h2', { id: 'affected-title' }, 'Export the notification list'),
    h('p', { class: 'hint' }, 'Every subscriber with a violation in the window, numbers in clear, as leakscope export-affected writes it. '
      + `Recorded in the audit as ${user}, with your reason. Keep the file as personal data.`),
    h('form', {
      class: 'window', 'aria-label': 'Export the notification list',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const f = fromInput(fromEl.value);
        const t = fromInput(toEl.value);
        const r = reason.value.trim();
        if (f === null || t === null) return void (status.textContent = 'Give From and To as YYYY-MM-DD or YYYY-MM-DD HH:MM (UTC).');
        if (f >= t) return void (status.textContent = 'The window must end after it starts.');
        if (!r) return void (status.textContent = 'Give the reason for this export; it is written to the audit.');
        status.textContent = '';
        button.disabled = true;
        try {
          saveBlob(await api.affected(f, t, r), `leakscope-affected-${fileStamp(f)}-${fileStamp(t)}.csv`);
          status.textContent = '';
          exported();
        } catch (error) {
          status.textContent = (error as Error).message;
        } finally {
          button.disabled = false;
        }
      },
    },
    h('label', { for: 'affected-from' }, 'From', h('span', { class: 'unit' }, 'UTC, inclusive')), fromEl,
    h('label', { for: 'affected-to' }, 'To', h('span', { class: 'unit' }, 'UTC, exclusive')), toEl,
    h('label', { for: 'affected-reason' }, 'Reason', h('span', { class: 'unit' }, 'required')), reason,
    button, status));
}

