// Routes of the service itself: health, metrics, the OpenAPI document. No authentication:
// none of them holds personal data (metrics count, never name).
import type { FastifyInstance } from 'fastify';
import { API_PREFIX } from '../app.js';
import { HealthBody } from '../schemas.js';
import type { RouteContext } from './index.js';

export function registerServiceRoutes(app: FastifyInstance, context: RouteContext): void {
  app.get('/healthz', {
    schema: { summary: 'Liveness: the service runs', tags: ['service'], response: { 200: HealthBody } },
  }, async () => ({ ok: true, store: context.store.location.kind, version: context.version }));

  app.get('/metrics', {
    schema: {
      summary: 'Prometheus metrics (text exposition format)', tags: ['service'],
      response: { 200: { content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  }, async (_request, reply) => {
    const text = await context.metrics.registry.metrics();
    return reply.type(context.metrics.registry.contentType).send(text);
  });

  app.get(`${API_PREFIX}/openapi.json`, {
    schema: { hide: true },
  }, async (_request, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(app.swagger())));
}
