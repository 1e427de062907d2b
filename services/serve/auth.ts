// Who is asking: a bearer token (`Authorization: Bearer TOKEN`) or a console session cookie.
// Sessions are kept in memory (a restart signs everyone out), tied to the user's current
// token, and expire after 30 idle minutes or 8 hours. A request authenticated by the cookie
// that changes anything must carry the session's CSRF token in `X-CSRF-Token`; bearer requests
// need none (a browser never adds an Authorization header by itself). See "Sessions" in the README.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie';
import { LeakscopeError } from '../core/errors.js';
import { roleAtLeast, userOfToken, type Role, type User } from '../users/index.js';
import type { UsersSource } from './users-directory.js';

export const SESSION_COOKIE = 'leakscope_session';
export const CSRF_HEADER = 'x-csrf-token';
export const SESSION_IDLE_MS = 30 * 60_000;
export const SESSION_MAX_MS = 8 * 3_600_000;
/** Sessions kept at most; the oldest goes first. Bounds the memory a flood of sign-ins can take. */
const MAX_SESSIONS = 10_000;

export interface Principal {
  name: string;
  role: Role;
  via: 'bearer' | 'session';
}

interface Session {
  user: string;
  tokenSha256: string;
  csrf: string;
  createdMs: number;
  lastMs: number;
}

function equalText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class Authenticator {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly users: UsersSource, private readonly now: () => number = Date.now) {}

  /** The user a token belongs to, or null. */
  userOfToken(token: string): User | null {
    return userOfToken(this.users.users(), token);
  }

  openSession(user: User): { id: string; csrf: string; expiresMs: number } {
    const now = this.now();
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    this.sessions.set(id, { user: user.name, tokenSha256: user.tokenSha256, csrf, createdMs: now, lastMs: now });
    return { id, csrf, expiresMs: now + SESSION_IDLE_MS };
  }

  closeSession(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(id);
  }

  /** The session's user when it is alive and the user still has the token it signed in with. */
  private sessionUser(id: string): { user: User; session: Session } | null {
    const session = this.sessions.get(id);
    if (session === undefined) return null;
    const now = this.now();
    if (now - session.lastMs > SESSION_IDLE_MS || now - session.createdMs > SESSION_MAX_MS) {
      this.sessions.delete(id);
      return null;
    }
    const user = this.users.users().find((u) => u.name === session.user && u.tokenSha256 === session.tokenSha256);
    if (user === undefined) {
      this.sessions.delete(id);
      return null;
    }
    session.lastMs = now;
    return { user, session };
  }

  /**
   * Authenticates a request; throws UNAUTHENTICATED or FORBIDDEN. An Authorization header,
   * when present, decides alone: a bad token is refused even with a good cookie.
   */
  authenticate(request: FastifyRequest): Principal {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const m = /^Bearer ([^\s]+)$/.exec(header);
      if (m === null) throw new LeakscopeError('UNAUTHENTICATED', 'the Authorization header must be "Bearer TOKEN"');
      const user = this.userOfToken(m[1]!);
      if (user === null) throw new LeakscopeError('UNAUTHENTICATED', 'unknown token: use a token from leakscope users add');
      return { name: user.name, role: user.role, via: 'bearer' };
    }
    const id = request.cookies[SESSION_COOKIE];
    if (id !== undefined && id !== '') {
      const found = this.sessionUser(id);
      if (found === null) throw new LeakscopeError('UNAUTHENTICATED', 'the session has expired or was closed: sign in again');
      if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'OPTIONS') {
        const presented = request.headers[CSRF_HEADER];
        if (typeof presented !== 'string' || !equalText(presented, found.session.csrf)) {
          throw new LeakscopeError('FORBIDDEN', `a changing request made with the session cookie needs the session's CSRF token in the X-CSRF-Token header`);
        }
      }
      return { name: found.user.name, role: found.user.role, via: 'session' };
    }
    throw new LeakscopeError('UNAUTHENTICATED', 'no credentials: send Authorization: Bearer TOKEN (from leakscope users add), or sign in');
  }
}

export function requireRole(principal: Principal, needed: Role): void {
  if (!roleAtLeast(principal.role, needed)) {
    throw new LeakscopeError('FORBIDDEN', `this needs the role ${needed} or above; user ${principal.name} is ${principal.role}`);
  }
}

export function sessionCookieOptions(secure: boolean): { httpOnly: true; sameSite: 'strict'; secure: boolean; path: '/' } {
  return { httpOnly: true, sameSite: 'strict', secure, path: '/' };
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(SESSION_COOKIE, sessionCookieOptions(secure));
}
