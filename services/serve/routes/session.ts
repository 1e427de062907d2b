// Console sign-in: a token exchanged for a session cookie (HttpOnly, SameSite=Strict, Secure
// under TLS) and a CSRF token the console sends as X-CSRF-Token on changing requests.
import type { FastifyInstance } from 'fastify';
import { LeakscopeError } from '../../core/errors.js';
import { API_PREFIX } from '../app.js';
import { SESSION_COOKIE, clearSessionCookie, sessionCookieOptions } from '../auth.js';
import { ERROR_RESPONSES, SessionBody, SessionRequest } from '../schemas.js';
import type { RouteContext } from './index.js';

/** Sign-in attempts per client address per minute: a token cannot be guessed, but a flood is refused cheaply. */
const SIGN_INS_PER_MINUTE = 20;

export function registerSessionRoutes(app: FastifyInstance, context: RouteContext): void {
  const secure = context.tls === true;

  app.post<{ Body: SessionRequest }>(`${API_PREFIX}/session`, {
    config: { rateLimit: { max: SIGN_INS_PER_MINUTE, timeWindow: 60_000, hook: 'preHandler' } },
    schema: {
      summary: 'Sign in: exchange a token for a session cookie and a CSRF token', tags: ['session'],
      body: SessionRequest,
      response: { 200: SessionBody, 400: ERROR_RESPONSES[400], 401: ERROR_RESPONSES[401], 429: ERROR_RESPONSES[400] },
    },
  }, async (request, reply) => {
    const user = context.auth.userOfToken(request.body.token);
    if (user === null) throw new LeakscopeError('UNAUTHENTICATED', 'unknown token: use a token from leakscope users add');
    const session = context.auth.openSession(user);
    reply.setCookie(SESSION_COOKIE, session.id, sessionCookieOptions(secure));
    reply.header('Cache-Control', 'no-store');
    return { user: user.name, role: user.role, csrf_token: session.csrf, expires_at: new Date(session.expiresMs).toISOString() };
  });

  app.delete(`${API_PREFIX}/session`, {
    config: { role: 'viewer' },
    schema: {
      summary: 'Sign out: the session ends and its cookie is cleared', tags: ['session'],
      security: [{ session: [] }],
      response: { 204: { type: 'null', description: 'signed out' }, 401: ERROR_RESPONSES[401], 403: ERROR_RESPONSES[403] },
    },
  }, async (request, reply) => {
    context.auth.closeSession(request.cookies[SESSION_COOKIE]);
    clearSessionCookie(reply, secure);
    return reply.code(204).send();
  });
}
