// The console's entry: sign-in, the navigation bar, and the pages behind the address's hash
// (#/report?from=…&to=…). A 401 from any call returns to sign-in; the token typed there is
// sent once to exchange it for a session cookie and never kept by the page.
import { api, ApiError, roleAtLeast, whenSignedOut, type Role, type Session } from './api.js';
import { h, replace } from './dom.js';
import type { Page } from './page.js';
import { alertsPage } from './pages/alerts.js';
import { auditPage } from './pages/audit.js';
import { registryPage } from './pages/registry.js';
import { reportPage } from './pages/report.js';
import { sitePage } from './pages/site.js';
import { whoSawPage } from './pages/who-saw.js';
import { roleLabel } from './states.js';

interface Route { page: Page; title: string; nav?: string; needs?: Role }

const ROUTES: Record<string, Route> = {
  report: { page: reportPage, title: 'Exposure report', nav: 'Exposure report' },
  site: { page: sitePage, title: 'Site' },
  'who-saw': { page: whoSawPage, title: 'Who saw a number', nav: 'Who saw', needs: 'investigator' },
  alerts: { page: alertsPage, title: 'Alerts', nav: 'Alerts' },
  registry: { page: registryPage, title: 'Registry', nav: 'Registry' },
  audit: { page: auditPage, title: 'Audit', nav: 'Audit', needs: 'privacy_officer' },
};
const NAV_OF: Record<string, string> = { site: 'report' };

const app = document.getElementById('app')!;
let session: Session | null = null;

let shown = 0;

function parseHash(): { name: string; params: URLSearchParams } {
  const hash = location.hash.replace(/^#\/?/, '');
  const [name = '', search = ''] = hash.split('?', 2);
  return { name: ROUTES[name] ? name : 'report', params: new URLSearchParams(search) };
}

function go(name: string, params: Record<string, string | null | undefined> = {}): void {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) search.set(k, v);
  const text = search.toString();
  const next = `#/${name}${text ? `?${text}` : ''}`;
  if (location.hash === next) void show();
  else location.hash = next;
}

function signInPage(message?: string): void {
  shown++;
  session = null;
  api.forget();
  document.title = 'Sign in · leakscope';
  const token = h('input', { type: 'password', id: 'token', name: 'token', required: true, autocomplete: 'off', spellcheck: 'false' });
  const problem = h('p', { class: 'field-error', role: 'alert' }, message ?? '');
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', {
    class: 'sign-in panel', 'aria-label': 'Sign in',
    onsubmit: async (event: Event) => {
      event.preventDefault();
      const value = token.value.trim();
      if (!value) return void (problem.textContent = 'Paste your leakscope token.');
      submit.disabled = true;
      problem.textContent = '';
      try {
        session = await api.signIn(value);
        token.value = '';
        void show();
      } catch (error) {
        token.value = '';
        problem.textContent = error instanceof ApiError && error.status === 401
          ? 'That token is not known. Check it, or ask an admin for a new one (`leakscope users add`).'
          : error instanceof ApiError && error.status === 429 ? `Too many attempts. Try again in ${error.retryAfterS ?? 60} s.`
            : error instanceof ApiError ? error.message : String(error);
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('div', { class: 'brand big' }, h('img', { src: '/console/logo.svg', alt: '', width: 28, height: 28 }), 'leakscope'),
  h('h1', {}, 'Sign in'),
  h('p', { class: 'lede' }, 'Use the token an admin created for you with ', h('code', {}, 'leakscope users add'), '. It is exchanged for a session cookie and not kept by this page.'),
  h('label', { for: 'token' }, 'Token'), token, submit, problem);
  replace(app, h('main', { class: 'signed-out' }, form));
  token.focus();
}

function navBar(active: string, s: Session): HTMLElement {
  return h('header', { class: 'top' },
    h('a', { class: 'brand', href: '#/report' }, h('img', { src: '/console/logo.svg', alt: '', width: 22, height: 22 }), 'leakscope'),
    h('nav', { 'aria-label': 'Pages' }, ...Object.entries(ROUTES).filter(([, r]) => r.nav).map(([name, r]) => {
      const locked = r.needs && !roleAtLeast(s.role, r.needs);
      return h('a', { href: `#/${name}`, class: `${name === active ? 'active' : ''}${locked ? ' locked' : ''}`, 'aria-current': name === active ? 'page' : null,
        title: locked ? `needs the ${roleLabel(r.needs!)} role` : null }, r.nav!);
    })),
    h('div', { class: 'who' },
      h('span', { class: 'user', 'data-user': s.name }, s.name),
      h('span', { class: `chip role ${s.role.replaceAll('_', '-')}` }, roleLabel(s.role)),
      h('button', {
        type: 'button', class: 'secondary', id: 'sign-out',
        onclick: async () => {
          try {
            await api.signOut();
          } catch {
            // The cookie is gone or the server is away: the page forgets the session anyway.
          }
          signInPage('You are signed out.');
        },
      }, 'Sign out')));
}

async function show(): Promise<void> {
  const ticket = ++shown;
  if (!session) session = api.resume();
  if (!session) return signInPage();
  const { name, params } = parseHash();
  const route = ROUTES[name]!;
  document.title = `${route.title} · leakscope`;
  const root = h('main', { id: 'page', class: `page-${name}` });
  replace(app, navBar(NAV_OF[name] ?? name, session), root);
  await route.page({ root, session, params, go, current: () => ticket === shown });
}

whenSignedOut((message) => signInPage(message));
window.addEventListener('hashchange', () => void show());
void show();
