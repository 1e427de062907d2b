// The audited lookups: who saw one subscriber's number, and the notification list. Each is
// rate-limited per user (one budget for both), appends its audit entry before answering, and
// answers exactly what the CLI prints (`who-saw --format json`, `export-affected`).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FALLBACK_REGION, auditedAffected, auditedWhoSaw, checkReason, readNumber } from '../../audit/index.js';
import { renderAffectedCsv, renderJson } from '../../render/index.js';
import { API_PREFIX, DEFAULT_LOOKUPS_PER_MINUTE, rateLimited } from '../app.js';
import { AffectedRequest, ERROR_RESPONSES, WhoSawBody, WhoSawRequest } from '../schemas.js';
import type { RouteContext } from './index.js';
import { requiredWindowOf, windowOf } from './window.js';

export function registerLookupRoutes(app: FastifyInstance, context: RouteContext): void {
  const security: Array<Record<string, string[]>> = [{ bearer: [] }, { session: [] }];
  // One budget per user for both lookups (a route-level limit would give each route its own).
  const limiter = app.createRateLimit({
    max: context.lookupsPerMinute ?? DEFAULT_LOOKUPS_PER_MINUTE,
    timeWindow: 60_000,
    keyGenerator: (request: FastifyRequest) => `lookups:${request.principal?.name ?? ''}`,
  });
  const rateLimit = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const limit = await limiter(request);
    if (!limit.isAllowed && limit.isExceeded) {
      reply.header('Retry-After', String(Math.max(1, limit.ttlInSeconds)));
      throw rateLimited(`${Math.max(1, limit.ttlInSeconds)} s`);
    }
  };
  const responses = { ...ERROR_RESPONSES, 429: ERROR_RESPONSES[400] };
  let region: string | null = null;
  const regionOfStore = async (): Promise<string> => {
    if (region === null) region = (await context.store.use((store) => store.readMeta())).region;
    return region ?? FALLBACK_REGION;
  };

  app.post<{ Body: WhoSawRequest }>(`${API_PREFIX}/who-saw`, {
    config: { role: 'investigator' },
    preHandler: rateLimit,
    schema: {
      summary: 'Every site that received one subscriber\'s number, as `leakscope who-saw --format json`; audited', tags: ['lookups'],
      security, body: WhoSawRequest, response: { 200: WhoSawBody, ...responses },
    },
  }, async (request, reply) => {
    const storeRegion = await regionOfStore();
    const reason = checkReason(request.body.reason, storeRegion);
    const window = windowOf(request.body.from, request.body.to);
    const e164 = readNumber(request.body.number, storeRegion);
    const principal = request.principal!;
    const { answer } = await context.store.use((store) => auditedWhoSaw(store, context.store.audit, context.keys, {
      e164, window, reason, by: { actor: principal.name, role: principal.role },
    }));
    context.metrics.lookups.inc({ action: 'who-saw' });
    reply.jsonEscaped = true;
    return reply.header('Cache-Control', 'no-store').type('application/json; charset=utf-8').send(renderJson(answer));
  });

  app.post<{ Body: AffectedRequest }>(`${API_PREFIX}/affected`, {
    config: { role: 'privacy_officer' },
    preHandler: rateLimit,
    schema: {
      summary: 'The notification list of a window (numbers decrypted), as `leakscope export-affected`; audited', tags: ['lookups'],
      security, body: AffectedRequest,
      response: { 200: { description: 'CSV: msisdn,sites,first_exposure,last_exposure,violations', content: { 'text/csv': { schema: { type: 'string' } } } }, ...responses },
    },
  }, async (request, reply) => {
    const reason = checkReason(request.body.reason, await regionOfStore());
    const window = requiredWindowOf(request.body.from, request.body.to);
    const principal = request.principal!;
    const { rows } = await context.store.use((store) => auditedAffected(store, context.store.audit, context.keys, {
      window, reason, by: { actor: principal.name, role: principal.role }, command: 'affected',
    }));
    context.metrics.lookups.inc({ action: 'affected' });
    return reply.header('Cache-Control', 'no-store').type('text/csv; charset=utf-8').send(renderAffectedCsv(rows));
  });
}
