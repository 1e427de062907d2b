// The states a page can be in besides showing data: loading, empty, not allowed, and each
// failure the API can answer, told so the user knows what to do next.
import { ApiError, type Role } from './api.js';
import { h } from './dom.js';

export function loading(what: string): HTMLElement {
  return h('div', { class: 'state loading', role: 'status', 'aria-live': 'polite' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), `Loading ${what}…`);
}

export function empty(title: string, detail: string): HTMLElement {
  return h('div', { class: 'state empty', 'data-state': 'empty' }, h('h2', {}, title), h('p', {}, detail));
}

const ROLE_LABEL: Record<Role, string> = { viewer: 'viewer', investigator: 'investigator', privacy_officer: 'privacy officer', admin: 'admin' };

export function roleLabel(role: Role): string {
  return ROLE_LABEL[role] ?? role;
}

export function notAllowed(role: Role, needed: Role, what: string): HTMLElement {
  return h('div', { class: 'state denied', 'data-state': 'forbidden', role: 'alert' },
    h('h2', {}, 'Not allowed for your role'),
    h('p', {}, `${what} needs the ${roleLabel(needed)} role or higher. You are signed in as ${roleLabel(role)}.`),
    h('p', { class: 'hint' }, 'Ask a leakscope admin for a token with that role if your work needs it.'));
}

/** A failure as the user should read it; `retry` re-runs what failed. */
export function failed(error: unknown, retry?: () => void): HTMLElement {
  const e = error instanceof ApiError ? error : new ApiError(-1, 'CLIENT', error instanceof Error ? error.message : String(error));
  let title: string;
  let detail: string;
  let state: string;
  switch (true) {
    case e.status === 403:
      [state, title, detail] = ['forbidden', 'Your role may not do this', e.message];
      break;
    case e.status === 429:
      [state, title, detail] = ['rate-limited', 'Too many lookups',
        `You have reached your lookups per minute. Try again in ${e.retryAfterS ?? 60} s.`];
      break;
    case e.status === 503:
      [state, title, detail] = ['unavailable', 'The store is unavailable',
        `leakscope cannot read its store right now. Nothing was lost: try again in a moment, and if it lasts, ask whoever runs the server (the service log says why). The server said: “${e.message}”`];
      break;
    case e.status === 404:
      [state, title, detail] = ['not-found', 'Not available here', e.message];
      break;
    case e.status === 400:
      [state, title, detail] = ['bad-request', 'The request was refused', e.message];
      break;
    case e.status === 0:
      [state, title, detail] = ['offline', 'The server could not be reached', e.message];
      break;
    default:
      [state, title, detail] = ['error', 'Something went wrong', `${e.message} (${e.code})`];
  }
  const box = h('div', { class: `state failed ${state}`, 'data-state': state, role: 'alert' }, h('h2', {}, title), h('p', {}, detail));
  if (retry) {
    const button = h('button', { type: 'button', class: 'secondary', onclick: () => retry() }, 'Try again');
    if (e.status === 429 && e.retryAfterS) {
      button.disabled = true;
      setTimeout(() => { button.disabled = false; }, e.retryAfterS * 1000);
    }
    box.appendChild(button);
  }
  return box;
}
