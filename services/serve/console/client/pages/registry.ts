// The partner registry the data was judged with: version, region, extra identity headers, and
// each partner's validity periods on one timeline (a lapsed contract shows as a gap), with the
// domains and identifiers of each period.
import { api, type Partner, type PartnerPeriod, type Registry } from '../api.js';
import { h, replace, s } from '../dom.js';
import { time } from '../format.js';
import type { Page } from '../page.js';
import { empty, failed, loading } from '../states.js';
import { cards, codeList } from '../widgets.js';

const WIDTH = 1000;
const YEAR = 365.25 * 86_400_000;

function range(partners: readonly Partner[]): { start: number; end: number } {
  const times = partners.flatMap((p) => p.periods.flatMap((q) => [q.valid_from, q.valid_to]))
    .filter((t): t is string => t !== null).map((t) => Date.parse(t));
  const now = Date.now();
  if (times.length === 0) return { start: now - YEAR, end: now + YEAR / 4 };
  const start = Math.min(...times);
  const end = Math.max(...times, start + YEAR / 12);
  const pad = (end - start) * 0.08;
  return { start: start - pad, end: end + pad };
}

function track(periods: readonly PartnerPeriod[], r: { start: number; end: number }, label: string): SVGSVGElement {
  const x = (t: number) => ((t - r.start) / (r.end - r.start)) * WIDTH;
  // Scaled uniformly (no preserveAspectRatio="none"), so every row and the axis line up and labels keep their shape.
  const svg = s('svg', { class: 'track', viewBox: `0 0 ${WIDTH} 20`, role: 'img', 'aria-label': label });
  for (const p of periods) {
    const from = p.valid_from === null ? 0 : Math.max(0, x(Date.parse(p.valid_from)));
    const to = p.valid_to === null ? WIDTH : Math.min(WIDTH, x(Date.parse(p.valid_to)));
    svg.appendChild(s('rect', { class: `period${p.valid_to === null ? ' open' : ''}${p.valid_from === null ? ' always' : ''}`, x: from, y: 3, width: Math.max(to - from, 2), height: 14, rx: 2 },
      s('title', {}, `${p.name}: ${p.valid_from ? time(p.valid_from) : 'always'} – ${p.valid_to ? time(p.valid_to) : 'open-ended'}`)));
  }
  return svg;
}

function axis(r: { start: number; end: number }): SVGSVGElement {
  const svg = s('svg', { class: 'track axis', viewBox: `0 0 ${WIDTH} 24`, 'aria-hidden': 'true' });
  const span = r.end - r.start;
  const stepMonths = span > 6 * YEAR ? 12 : span > 2 * YEAR ? 6 : span > YEAR ? 3 : 1;
  const d = new Date(r.start);
  // The first month after the start that is a multiple of the step (January, April, July…).
  let t = Date.UTC(d.getUTCFullYear(), Math.floor(d.getUTCMonth() / stepMonths) * stepMonths + stepMonths, 1);
  while (t < r.end) {
    const at = ((t - r.start) / span) * WIDTH;
    const m = new Date(t);
    svg.append(s('line', { x1: at, x2: at, y1: 16, y2: 24 }), s('text', { x: at, y: 12, 'text-anchor': at > WIDTH - 40 ? 'end' : 'middle' }, m.toISOString().slice(0, 7)));
    t = Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + stepMonths, 1);
  }
  const now = Date.now();
  if (now > r.start && now < r.end) svg.append(s('line', { class: 'now', x1: ((now - r.start) / span) * WIDTH, x2: ((now - r.start) / span) * WIDTH, y1: 0, y2: 24 }));
  return svg;
}

function period(p: PartnerPeriod): string {
  return `${p.valid_from ? time(p.valid_from) : 'always'} – ${p.valid_to ? time(p.valid_to) : 'open-ended'}`;
}

export const registryPage: Page = async (context) => {
  const body = h('div', {}, loading('the registry'));
  replace(context.root,
    h('header', { class: 'page-head' }, h('h1', {}, 'Partner registry'), h('p', { class: 'lede' }, 'Who may receive which identifiers, and when: the registry the stored verdicts were judged with.')),
    body);
  const load = async () => {
    replace(body, loading('the registry'));
    let registry: Registry;
    try {
      registry = await api.registry();
    } catch (error) {
      if (context.current()) replace(body, failed(error, load));
      return;
    }
    if (!context.current()) return;
    const partners = registry.partners ?? [];
    const r = range(partners);
    const figures = cards([
      ['Version', registry.version || '—', 'stored with every verdict'],
      ['Region', registry.region || '—', 'for national-format numbers'],
      ['Partners', partners.length, `${partners.reduce((n, p) => n + p.periods.length, 0)} validity periods`],
    ]);
    const headers = h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', {}, 'Extra identity headers'),
      h('span', { class: 'unit' }, 'beyond the built-in list (X-MSISDN, X-UP-Calling-Line-ID, …)')),
      (registry.identity_headers ?? []).length ? codeList(registry.identity_headers, 50) : h('p', { class: 'hint' }, 'None: the built-in list only.'));
    if (partners.length === 0) {
      replace(body, figures, empty('No partners', 'This registry lists no trusted partner: every disclosure is a violation.'), headers);
      return;
    }
    const rows = partners.map((p) => h('tr', { 'data-partner': p.id },
      h('th', { scope: 'row' }, h('span', { class: 'site-cell' }, h('span', { class: 'name' }, p.id), h('span', { class: 'sub' }, p.periods[0]?.name ?? ''))),
      h('td', { class: 'track-cell' }, track(p.periods, r, `Validity of ${p.id}`))));
    const timeline = h('table', { class: 'timeline-table' },
      h('caption', { class: 'visually-hidden' }, 'Validity periods of each partner'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Partner'), h('th', { scope: 'col', class: 'track-cell' }, axis(r)))),
      h('tbody', {}, ...rows));
    const periodRows = partners.flatMap((p) => p.periods.map((q, i) => h('tr', {},
      h('td', {}, i === 0 ? h('span', { class: 'name' }, p.id) : ''),
      h('td', {}, q.name), h('td', {}, q.purposes.join(', ')), h('td', {}, codeList(q.domains, 4)),
      h('td', {}, codeList(q.identifiers, 4)), h('td', { class: 'period-text' }, period(q)))));
    const table = h('table', { class: 'partners' },
      h('caption', { class: 'visually-hidden' }, 'Partners, one row per validity period'),
      h('thead', {}, h('tr', {}, ...['Partner', 'Name', 'Purposes', 'Domains', 'May receive', 'Valid'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...periodRows));
    replace(body, figures,
      h('section', { class: 'panel' },
        h('div', { class: 'panel-head' }, h('h2', {}, 'Validity'), h('span', { class: 'unit' }, 'UTC; a period that runs to the right edge is open-ended, a gap is a lapsed contract; hover a bar for its dates')),
        h('div', { class: 'scroll' }, timeline)),
      h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', {}, 'Partners and their periods')), h('div', { class: 'scroll' }, table)),
      headers);
  };
  await load();
};
