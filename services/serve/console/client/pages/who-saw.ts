// "Who saw my number": one subscriber's number and the reason for looking → every site that
// received it. The number goes only in the POST body (never the address bar or history), is
// cleared from the form once sent, and the answer shows it masked. Every lookup is audited.
import { api, ApiError, roleAtLeast, type WhoSawJson } from '../api.js';
import { h, replace } from '../dom.js';
import { count, fromInput, time, TIME_PLACEHOLDER } from '../format.js';
import type { Page } from '../page.js';
import { empty, failed, loading, notAllowed, roleLabel } from '../states.js';
import { codeList, dataTable, verdictChip } from '../widgets.js';

type Recipient = WhoSawJson['recipients'][number];

function answer(result: WhoSawJson): HTMLElement {
  const violations = result.recipients.filter((r) => r.verdict !== 'authorized');
  const head = h('div', { class: 'panel-head' }, h('h2', {}, 'Recipients of ', h('span', { class: 'masked', 'data-subscriber': '' }, result.subscriber)),
    h('span', { class: 'unit' }, result.window.from || result.window.to ? `${time(result.window.from)} – ${time(result.window.to)}` : 'all stored time'));
  if (result.recipients.length === 0) {
    return h('section', { class: 'panel result' }, head,
      empty('No site received this number', 'No stored request disclosed this subscriber in the window. Check the number and the window; the store holds only the logs scanned into it.'));
  }
  return h('section', { class: 'panel result' }, head,
    h('p', { class: 'summary' }, `${count(result.recipients.length)} recipients, ${count(violations.length)} of them not allowed to receive it.`),
    dataTable<Recipient>({
      caption: `Sites that received ${result.subscriber}`, className: 'recipients', rows: result.recipients,
      columns: [
        { key: 'site', label: 'Site', sort: (r) => r.site, cell: (r) => h('span', { class: 'site-cell' }, h('span', { class: 'name' }, r.site), h('span', { class: 'sub' }, r.host)) },
        { key: 'verdict', label: 'Verdict', sort: (r) => r.verdict, cell: (r) => verdictChip(r.verdict) },
        { key: 'partner', label: 'Partner', sort: (r) => r.partner ?? '', cell: (r) => r.partner ?? '—' },
        { key: 'requests', label: 'Requests', numeric: true, sort: (r) => r.requests, cell: (r) => count(r.requests) },
        { key: 'identifiers', label: 'Identifiers', cell: (r) => codeList(r.identifiers, 3) },
        { key: 'first_seen', label: 'First seen', sort: (r) => r.first_seen, cell: (r) => time(r.first_seen) },
        { key: 'last_seen', label: 'Last seen', sort: (r) => r.last_seen, cell: (r) => time(r.last_seen) },
      ],
    }));
}

export const whoSawPage: Page = async (context) => {
  const head = h('header', { class: 'page-head' }, h('h1', {}, 'Who saw a number'),
    h('p', { class: 'lede' }, 'Every site that received one subscriber’s number, trusted partners included.'));
  if (!roleAtLeast(context.session.role, 'investigator')) {
    replace(context.root, head, notAllowed(context.session.role, 'investigator', 'Looking up a subscriber'));
    return;
  }
  const number = h('input', { type: 'text', id: 'number', name: 'number', required: true, autocomplete: 'off', inputmode: 'tel', spellcheck: 'false', placeholder: '+44 7700 900123' });
  const reason = h('textarea', { id: 'reason', name: 'reason', required: true, rows: 2, maxlength: 500, placeholder: 'Ticket CS-12345: customer asked who received their number' });
  const from = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', placeholder: TIME_PLACEHOLDER, class: 'time', id: 'lookup-from', name: 'from' });
  const to = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', placeholder: TIME_PLACEHOLDER, class: 'time', id: 'lookup-to', name: 'to' });
  const problem = h('p', { class: 'field-error', role: 'alert' });
  const submit = h('button', { type: 'submit' }, 'Look up');
  const out = h('div', { class: 'who-saw-result' });
  const form = h('form', {
    class: 'panel lookup', autocomplete: 'off',
    onsubmit: async (event: Event) => {
      event.preventDefault();
      problem.textContent = '';
      const n = number.value.trim();
      const r = reason.value.trim();
      const f = from.value ? fromInput(from.value) : undefined;
      const t = to.value ? fromInput(to.value) : undefined;
      if (!n) return void (problem.textContent = 'Give the subscriber’s number.');
      if (!r) return void (problem.textContent = 'Give the reason for this lookup; it is written to the audit.');
      if (f === null || t === null) return void (problem.textContent = 'Give times as YYYY-MM-DD or YYYY-MM-DD HH:MM (UTC), or leave them empty.');
      if (f && t && f >= t) return void (problem.textContent = 'The window must end after it starts.');
      submit.disabled = true;
      replace(out, loading('the recipients'));
      try {
        const result = await api.whoSaw(n, r, f, t);
        number.value = '';
        if (context.current()) replace(out, answer(result));
        submit.disabled = false;
      } catch (error) {
        if (context.current()) replace(out, failed(error));
        // Over the lookup budget: Look up comes back when the server says it may.
        const wait = error instanceof ApiError && error.status === 429 ? error.retryAfterS ?? 60 : 0;
        if (wait > 0) setTimeout(() => { submit.disabled = false; }, wait * 1000);
        else submit.disabled = false;
      }
    },
  },
  h('div', { class: 'fields' },
    h('div', { class: 'field' }, h('label', { for: 'number' }, 'Number', h('span', { class: 'unit' }, 'any usual spelling')), number),
    h('div', { class: 'field grow' }, h('label', { for: 'reason' }, 'Reason', h('span', { class: 'unit' }, 'required, recorded in the audit')), reason),
    h('div', { class: 'field' }, h('label', { for: 'lookup-from' }, 'From', h('span', { class: 'unit' }, 'UTC, optional')), from),
    h('div', { class: 'field' }, h('label', { for: 'lookup-to' }, 'To', h('span', { class: 'unit' }, 'UTC, optional')), to)),
  h('div', { class: 'actions' }, submit,
    h('span', { class: 'hint' }, `Recorded in the audit as ${context.session.name} (${roleLabel(context.session.role)}), with your reason. The number itself is never stored.`)),
  problem);
  replace(context.root, head, form, out);
  number.focus();
};
