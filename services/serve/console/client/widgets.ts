// Pieces the pages share: the window picker, figure cards, verdict chips, a sortable and
// filterable table, and downloads of what the API answers.
import type { Verdict } from './api.js';
import { h, replace } from './dom.js';
import { count, fromInput, isVerdict, TIME_PLACEHOLDER, toInput, VERDICT_LABEL, VERDICT_ORDER } from './format.js';

const DAY = 86_400_000;

/** The default window: everything stored, from 2000 to the end of today (UTC). */
export function allTime(): { from: string; to: string } {
  return { from: '2000-01-01T00:00:00.000Z', to: new Date(Math.ceil((Date.now() + 1) / DAY) * DAY).toISOString() };
}

export interface WindowPicker {
  element: HTMLElement;
}

/**
 * From and to (UTC, `[from, to)`), presets, and Apply. `onApply` gets ISO times; a window the
 * browser cannot read, or one that ends before it starts, is refused here with a message.
 */
export function windowPicker(window: { from: string; to: string }, onApply: (from: string, to: string) => void, extra?: Node): WindowPicker {
  const from = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', placeholder: TIME_PLACEHOLDER, class: 'time', id: 'window-from', name: 'from', required: true, value: toInput(window.from) });
  const to = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', placeholder: TIME_PLACEHOLDER, class: 'time', id: 'window-to', name: 'to', required: true, value: toInput(window.to) });
  const problem = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const preset = (label: string, days: number | null) => h('button', {
    type: 'button', class: 'link',
    onclick: () => {
      const w = days === null ? allTime() : { from: new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - days * DAY).toISOString(), to: allTime().to };
      onApply(w.from, w.to);
    },
  }, label);
  const form = h('form', {
    class: 'window', 'aria-label': 'Report window',
    onsubmit: (event: Event) => {
      event.preventDefault();
      const f = fromInput(from.value);
      const t = fromInput(to.value);
      problem.hidden = false;
      if (!f || !t) problem.textContent = 'Give both times as YYYY-MM-DD or YYYY-MM-DD HH:MM (UTC).';
      else if (f >= t) problem.textContent = 'The window must end after it starts.';
      else {
        problem.hidden = true;
        onApply(f, t);
      }
    },
  },
  h('label', { for: 'window-from' }, 'From', h('span', { class: 'unit' }, 'UTC, inclusive')), from,
  h('label', { for: 'window-to' }, 'To', h('span', { class: 'unit' }, 'UTC, exclusive')), to,
  h('button', { type: 'submit' }, 'Apply'),
  h('span', { class: 'presets' }, 'or', preset('all data', null), preset('last 24 h', 1), preset('7 days', 7), preset('30 days', 30)),
  extra ?? null,
  problem);
  return { element: form };
}

export function cards(figures: Array<[string, number | string, string?]>): HTMLElement {
  return h('div', { class: 'cards' }, ...figures.map(([label, value, note]) => h('div', { class: 'card' },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value', 'data-figure': label }, typeof value === 'number' ? count(value) : value),
    note ? h('div', { class: 'note' }, note) : null)));
}

export function verdictChip(verdict: Verdict | string, n?: number): HTMLElement {
  const known = isVerdict(verdict);
  return h('span', { class: `chip verdict ${known ? verdict.replaceAll('_', '-') : 'unknown'}`, title: verdict },
    known ? VERDICT_LABEL[verdict] : verdict, n === undefined ? null : h('span', { class: 'n' }, count(n)));
}

export function verdictChips(verdicts: Partial<Record<Verdict, number>>): HTMLElement {
  return h('span', { class: 'chips' }, ...VERDICT_ORDER.filter((v) => (verdicts[v] ?? 0) > 0).map((v) => verdictChip(v, verdicts[v])));
}

export function codeList(values: readonly string[], limit = 6): HTMLElement {
  const shown = values.slice(0, limit);
  return h('span', { class: 'codes' }, ...shown.map((v) => h('code', {}, v)),
    values.length > limit ? h('span', { class: 'more' }, `+${values.length - limit} more`) : null);
}

export interface Column<T> {
  key: string;
  label: string;
  /** Sort value; absent = not sortable. */
  sort?: (row: T) => number | string;
  numeric?: boolean;
  cell: (row: T) => Node | string;
}

export interface TableOptions<T> {
  caption: string;
  rows: readonly T[];
  columns: Array<Column<T>>;
  /** Initial sort column and direction; absent = the API's order. */
  sortBy?: { key: string; descending: boolean };
  /** Text a row is found by (the filter matches a part of it, case-insensitively). */
  filterText?: (row: T) => string;
  filterLabel?: string;
  onRow?: (row: T) => void;
  rowLabel?: (row: T) => string;
  /** At most this many rows are drawn; the rest are counted and reachable by filtering. */
  limit?: number;
  className?: string;
}

/** A table sortable by its headers (aria-sort) and, with `filterText`, filterable. */
export function dataTable<T>(options: TableOptions<T>): HTMLElement {
  let sortBy = options.sortBy ?? null;
  let filter = '';
  const limit = options.limit ?? 500;
  const body = h('tbody');
  const status = h('p', { class: 'table-status', 'aria-live': 'polite' });
  const headers = options.columns.map((column) => {
    const th = h('th', { scope: 'col', class: column.numeric ? 'num' : null, 'data-key': column.key });
    if (column.sort) {
      th.appendChild(h('button', {
        type: 'button', class: 'sort',
        onclick: () => {
          sortBy = sortBy?.key === column.key ? { key: column.key, descending: !sortBy.descending } : { key: column.key, descending: !!column.numeric };
          draw();
        },
      }, column.label, h('span', { class: 'arrow', 'aria-hidden': 'true' })));
    } else th.textContent = column.label;
    return th;
  });

  function draw(): void {
    const needle = filter.trim().toLowerCase();
    let rows = needle && options.filterText ? options.rows.filter((r) => options.filterText!(r).toLowerCase().includes(needle)) : [...options.rows];
    const column = sortBy ? options.columns.find((c) => c.key === sortBy!.key) : undefined;
    if (column?.sort) {
      const value = column.sort;
      const sign = sortBy!.descending ? -1 : 1;
      // Stable: equal values keep the API's order.
      rows = rows.map((row, i) => ({ row, i })).sort((a, b) => {
        const x = value(a.row);
        const y = value(b.row);
        return (x < y ? -1 : x > y ? 1 : 0) * sign || a.i - b.i;
      }).map((e) => e.row);
    }
    headers.forEach((th, i) => {
      const key = options.columns[i]!.key;
      if (sortBy?.key === key) th.setAttribute('aria-sort', sortBy.descending ? 'descending' : 'ascending');
      else th.removeAttribute('aria-sort');
    });
    replace(body, ...rows.slice(0, limit).map((row) => {
      const tr = h('tr', {}, ...options.columns.map((c) => h('td', { class: c.numeric ? 'num' : null, 'data-key': c.key }, c.cell(row))));
      if (options.onRow) {
        tr.classList.add('clickable');
        tr.tabIndex = 0;
        if (options.rowLabel) tr.setAttribute('aria-label', options.rowLabel(row));
        tr.addEventListener('click', () => options.onRow!(row));
        tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') options.onRow!(row); });
      }
      return tr;
    }));
    if (rows.length === 0) {
      body.appendChild(h('tr', { class: 'none' }, h('td', { colspan: options.columns.length }, needle ? `Nothing matches “${filter.trim()}”.` : 'Nothing to show.')));
    }
    status.textContent = rows.length > limit
      ? `Showing the first ${count(limit)} of ${count(rows.length)} rows; filter to find the others.`
      : `${count(rows.length)} of ${count(options.rows.length)} rows`;
  }

  const tools = options.filterText ? h('div', { class: 'table-tools' },
    h('label', { class: 'filter' }, options.filterLabel ?? 'Filter',
      h('input', { type: 'search', name: 'filter', autocomplete: 'off', spellcheck: 'false', oninput: (e: Event) => { filter = (e.target as HTMLInputElement).value; draw(); } })),
    status) : status;
  draw();
  return h('div', { class: `table-block ${options.className ?? ''}` }, tools,
    h('div', { class: 'scroll' }, h('table', { class: options.className ?? null }, h('caption', { class: 'visually-hidden' }, options.caption),
      h('thead', {}, h('tr', {}, ...headers)), body)));
}

/** Saves a Blob under `name` through a temporary object URL. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
