// The fastify application of `leakscope serve`: the JSON API under /api/v1, /healthz,
// /metrics, the OpenAPI document, and the registration point of the web console
// (`options.console`, mounted at /). Nothing here listens: the serve command does that.
// The contract (routes, roles, bodies, status codes) is in the README, "The API".
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { Logger } from 'pino';
import { LeakscopeError } from '../core/errors.js';
import type { PrivacyKeys } from '../core/privacy/index.js';
import type { Role } from '../users/index.js';
import { redactNumbers } from '../observability/index.js';
import { Authenticator, requireRole, type Principal } from './auth.js';
import { apiErrorOf, errorBody } from './errors.js';
import { createServeMetrics, type ServeMetrics } from './metrics.js';
import type { AlertSource, RegistrySource } from './sources.js';
import type { StoreAccess } from './store-access.js';
import type { UsersSource } from './users-directory.js';
import { registerRoutes } from './routes/index.js';
import { safeJsonText } from '../core/visible-text.js';

export const API_PREFIX = '/api/v1';
export const DEFAULT_LOOKUPS_PER_MINUTE = 30;
const VERSION = '0.1.0';

export interface ServeOptions {
  store: StoreAccess;
  users: UsersSource;
  /** The keys that read the store (hash key for who-saw, encryption key for affected). */
  keys: PrivacyKeys;
  /** Who-saw and affected lookups per user per minute; default 30. */
  lookupsPerMinute?: number;
  /** Serve over TLS with this certificate and key (PEM): the session cookie is then marked Secure, and HSTS sent. */
  https?: { cert: Buffer; key: Buffer } | null;
  alerts?: AlertSource | null;
  registry?: RegistrySource | null;
  /** Root pino logger; default silent. Request logs carry no number, token or body. */
  logger?: Logger;
  metrics?: ServeMetrics;
  /**
   * The web console, registered at `/` (services/serve/console/). It receives the same
   * instance, so its pages call the API of this app with the session cookie.
   */
  console?: FastifyPluginAsync;
  now?: () => number;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyReply {
    /** The body sent is already escaped as the CLI's JSON is (renderJson): the onSend pass is skipped. */
    jsonEscaped: boolean;
  }
  interface FastifyContextConfig {
    /** The least role that may use the route; absent = no authentication (healthz, metrics, session). */
    role?: Role;
  }
}

export interface ServeApp {
  app: FastifyInstance;
  metrics: ServeMetrics;
  auth: Authenticator;
}

/** The route pattern of a request, for logs and metric labels (never the raw URL). */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

export async function buildApp(options: ServeOptions): Promise<ServeApp> {
  const metrics = options.metrics ?? createServeMetrics();
  const auth = new Authenticator(options.users, options.now);
  const log = options.logger;
  const tls = options.https !== null && options.https !== undefined;
  const app = Fastify({
    ...(tls ? { https: options.https } : {}),
    logger: false,
    // A body is a few hundred bytes; anything larger is refused before it is parsed.
    bodyLimit: 16 * 1024,
    // Schemas refuse unknown fields (additionalProperties: false); fastify's default would strip them silently.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }) as unknown as FastifyInstance;

  app.decorateRequest('principal', null);
  app.decorateReply('jsonEscaped', false);

  await app.register(cookie);
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"], fontSrc: ["'self'"], objectSrc: ["'none'"], baseUri: ["'none'"],
        formAction: ["'self'"], frameAncestors: ["'none'"],
      },
    },
    hsts: tls ? { maxAge: 31_536_000 } : false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(rateLimit, { global: false, hook: 'preHandler' });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'leakscope operator API', version: VERSION,
        description: 'Exposure reports, who saw a subscriber\'s number, the notification list, alerts, the registry and the audit. ' +
          'Authenticate with `Authorization: Bearer TOKEN` (from `leakscope users add`), or with the console\'s session cookie ' +
          'plus the `X-CSRF-Token` header on changing requests.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'a token from `leakscope users add`' },
          session: { type: 'apiKey', in: 'cookie', name: 'leakscope_session', description: 'from POST /api/v1/session; changing requests also need X-CSRF-Token' },
        },
      },
    },
  });

  // Authentication and role, before the body is validated: a stranger learns nothing about a route's inputs.
  app.addHook('onRequest', async (request) => {
    const role = request.routeOptions.config?.role;
    if (role === undefined) return;
    const principal = auth.authenticate(request);
    requireRole(principal, role);
    request.principal = principal;
  });

  // Every JSON body leaves with control and bidi characters escaped, as the CLI's JSON does
  // (README "Output safety"); the bodies rendered for the CLI are already so and are not scanned again.
  app.addHook('onSend', async (_request, reply, payload) =>
    !reply.jsonEscaped && typeof payload === 'string' && String(reply.getHeader('content-type') ?? '').startsWith('application/json') ? safeJsonText(payload) : payload);

  app.addHook('onResponse', async (request, reply) => {
    const route = routeOf(request);
    const status = String(reply.statusCode);
    metrics.requests.inc({ route, method: request.method, status });
    metrics.duration.observe({ route }, reply.elapsedTime / 1000);
    // No URL (a query string may hold anything), no header, no body: the route pattern and who.
    log?.info({
      method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10,
      user: request.principal?.name ?? null, request_id: request.id,
    }, 'request answered');
  });

  app.setErrorHandler(async (error, request, reply) => {
    const answer = apiErrorOf(error);
    metrics.refusals.inc({ reason: answer.reason });
    if (answer.status >= 500) {
      log?.error({
        route: routeOf(request), code: answer.code,
        err: redactNumbers((error as Error)?.message ?? String(error)),
      }, 'request failed');
    }
    if (answer.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="leakscope"');
    if (answer.status === 503) reply.header('Retry-After', '5');
    return reply.code(answer.status).type('application/json; charset=utf-8').send(errorBody(answer.code, answer.message));
  });

  app.setNotFoundHandler(async (request, reply) => {
    metrics.refusals.inc({ reason: 'not_found' });
    return reply.code(404).send(errorBody('USAGE', `no route ${request.method} ${redactNumbers(request.url.split('?', 1)[0] ?? '')}; see ${API_PREFIX}/openapi.json`));
  });

  await registerRoutes(app, { ...options, tls, metrics, auth, version: VERSION });

  if (options.console !== undefined) await app.register(options.console, { prefix: '/' });
  return { app, metrics, auth };
}

/** The refusal for a lookup over the limit (used by the rate limiter's response builder). */
export function rateLimited(afterText: string): LeakscopeError {
  return new LeakscopeError('RATE_LIMITED', `too many lookups: this user may make more in ${afterText}`);
}
