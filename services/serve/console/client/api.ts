// The console's one way to the operator API (README, "The API"): same-origin requests
// with the session cookie; every changing request carries the CSRF token the session call
// returned. A failure becomes an ApiError the pages turn into a state the user can act on.

import type { Alert, AuditEntry, Partner, Registry, RegistryAnswer, ReportJson, Role, Session, WhoSawJson } from './types.js';

export { roleAtLeast } from './types.js';
export type { Alert, AuditEntry, Partner, PartnerPeriod, Registry, ReportJson, Role, Session, SiteRow, Verdict, WhoSawJson } from './types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds to wait, from Retry-After (429). */
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrf = '';
let onSignedOut: (message: string) => void = () => undefined;

/** Called when any request answers 401: the session is gone, the console returns to sign-in. */
export function whenSignedOut(callback: (message: string) => void): void {
  onSignedOut = callback;
}

async function failure(response: Response): Promise<ApiError> {
  let code = `HTTP_${response.status}`;
  let message = response.statusText || `the server answered ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // Not JSON (a proxy's page): keep the status line.
  }
  const retry = Number(response.headers.get('retry-after'));
  return new ApiError(response.status, code, message, Number.isFinite(retry) && retry > 0 ? Math.ceil(retry) : null);
}

async function call(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<Response> {
  const headers: Record<string, string> = { accept };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  let response: Response;
  try {
    response = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The leakscope server could not be reached. Check that `leakscope serve` is running.');
  }
  if (response.ok) return response;
  const error = await failure(response);
  if (error.status === 401 && !(method === 'POST' && path === '/api/v1/session')) {
    api.forget();
    onSignedOut('Your session has ended. Sign in again.');
  }
  throw error;
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  return (await (await call(method, path, body)).json()) as T;
}

function query(params: Record<string, string | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) search.set(k, v);
  const text = search.toString();
  return text ? `?${text}` : '';
}

interface SessionAnswer { user: string; role: Role; csrf_token: string; expires_at: string }

const KEPT = 'leakscope.session';

function session(answer: SessionAnswer): Session {
  csrf = answer.csrf_token;
  const kept: Session = { name: answer.user, role: answer.role, csrf };
  sessionStorage.setItem(KEPT, JSON.stringify(kept));
  return kept;
}

export const api = {
  /** Exchanges a token for a session cookie; the token is not kept anywhere in the page. */
  async signIn(token: string): Promise<Session> {
    return session(await json<SessionAnswer>('POST', '/api/v1/session', { token }));
  },
  /**
   * The session this tab signed in with, after a reload: the API has no "who am I" call, so the
   * user, role and CSRF token are kept in this tab's sessionStorage (gone when the tab closes;
   * the cookie itself stays HttpOnly). Whether the cookie still works shows on the first call.
   */
  resume(): Session | null {
    try {
      const kept = JSON.parse(sessionStorage.getItem(KEPT) ?? 'null') as Session | null;
      if (!kept || typeof kept.name !== 'string' || typeof kept.role !== 'string' || typeof kept.csrf !== 'string') return null;
      csrf = kept.csrf;
      return kept;
    } catch {
      return null;
    }
  },
  forget(): void {
    csrf = '';
    sessionStorage.removeItem(KEPT);
  },
  async signOut(): Promise<void> {
    try {
      await call('DELETE', '/api/v1/session');
    } finally {
      api.forget();
    }
  },
  report(from: string, to: string, site?: string): Promise<ReportJson> {
    return json('GET', `/api/v1/report${query({ from, to, site, format: 'json' })}`);
  },
  /** The report as the CLI writes it (csv or html), for a download. */
  async reportFile(from: string, to: string, format: 'csv' | 'html', site?: string): Promise<Blob> {
    return (await call('GET', `/api/v1/report${query({ from, to, site, format })}`, undefined, format === 'csv' ? 'text/csv' : 'text/html')).blob();
  },
  /** The notification list (numbers in clear) as `export-affected` writes it; audited with the reason. */
  async affected(from: string, to: string, reason: string): Promise<Blob> {
    return (await call('POST', '/api/v1/affected', { from, to, reason }, 'text/csv')).blob();
  },
  /** The number travels only in this POST body, never in a URL. */
  whoSaw(number: string, reason: string, from?: string, to?: string): Promise<WhoSawJson> {
    return json('POST', '/api/v1/who-saw', { number, reason, ...(from ? { from } : {}), ...(to ? { to } : {}) });
  },
  /** Newest first, and where they come from (the store, or the leak-alerts topic). */
  alerts(since?: string): Promise<{ source: string; alerts: Alert[] }> {
    return json('GET', `/api/v1/alerts${query({ since })}`);
  },
  async registry(): Promise<Registry> {
    const answer = await json<RegistryAnswer>('GET', '/api/v1/registry');
    const partners = new Map<string, Partner>();
    for (const { id, ...period } of answer.partners) {
      const partner = partners.get(id) ?? { id, periods: [] };
      partner.periods.push(period);
      partners.set(id, partner);
    }
    return { version: answer.version, region: answer.region, identity_headers: answer.identity_headers, partners: [...partners.values()] };
  },
  /** Oldest first, as the trail is written. */
  async audit(from?: string, to?: string): Promise<AuditEntry[]> {
    return (await json<{ entries: AuditEntry[] }>('GET', `/api/v1/audit${query({ from, to })}`)).entries;
  },
};
