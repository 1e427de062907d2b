// Read routes: the exposure report (byte-identical to `leakscope report`), alerts, the
// registry and the audit.
import type { FastifyInstance } from 'fastify';
import { parseEntry, type AuditEntry } from '../../audit/index.js';
import { normalizeSiteFlag, renderReport } from '../../cli/commands/report.js';
import { LeakscopeError } from '../../core/errors.js';
import { buildReport } from '../../store/index.js';
import { API_PREFIX } from '../app.js';
import {
  AlertsBody, AlertsQuery, AuditBody, AuditQuery, ERROR_RESPONSES, RegistryBody, ReportBody, ReportQuery,
} from '../schemas.js';
import { registryJson } from '../sources.js';
import type { RouteContext } from './index.js';
import { requiredWindowOf, windowOf } from './window.js';

/** Alerts returned at most: the newest. */
const MAX_ALERTS = 500;

// The HTML report is one self-contained page with inline CSS and no script; it gets the
// policy its own <meta> declares instead of the console's.
const REPORT_HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const CONTENT_TYPES = { json: 'application/json; charset=utf-8', csv: 'text/csv; charset=utf-8', html: 'text/html; charset=utf-8' } as const;

export function registerReadRoutes(app: FastifyInstance, context: RouteContext): void {
  const security: Array<Record<string, string[]>> = [{ bearer: [] }, { session: [] }];

  app.get<{ Querystring: ReportQuery }>(`${API_PREFIX}/report`, {
    config: { role: 'viewer' },
    schema: {
      summary: 'The exposure report of a window, as `leakscope report --format json|csv|html`, byte for byte', tags: ['report'],
      security, querystring: ReportQuery,
      response: {
        200: {
          description: 'the report',
          content: {
            'application/json': { schema: ReportBody },
            'text/csv': { schema: { type: 'string' } },
            'text/html': { schema: { type: 'string' } },
          },
        },
        ...ERROR_RESPONSES,
      },
    },
  }, async (request, reply) => {
    const { from, to, site: siteParam } = request.query;
    const format = request.query.format ?? 'json';
    const window = requiredWindowOf(from, to);
    const site = siteParam === undefined ? undefined : normalizeSiteFlag(siteParam);
    const report = buildReport(window, await context.store.use((store) => store.report(window, site)));
    const text = renderReport(report, format, { ...(site === undefined ? {} : { site }), source: context.store.description });
    if (format === 'html') reply.header('Content-Security-Policy', REPORT_HTML_CSP);
    return reply.header('Cache-Control', 'no-store').type(CONTENT_TYPES[format]).send(text);
  });

  app.get<{ Querystring: AlertsQuery }>(`${API_PREFIX}/alerts`, {
    config: { role: 'viewer' },
    schema: {
      summary: `Recent alerts, newest first (at most ${MAX_ALERTS})`, tags: ['alerts'],
      security, querystring: AlertsQuery, response: { 200: AlertsBody, ...ERROR_RESPONSES },
    },
  }, async (request) => {
    const since = request.query.since === undefined ? null : windowOf(request.query.since, undefined).from;
    const source = context.alerts ?? null;
    if (source === null) return { source: 'none: start serve with --brokers LIST to read the leak-alerts topic', alerts: [] };
    return { source: source.description, alerts: await source.recent(since, MAX_ALERTS) };
  });

  app.get(`${API_PREFIX}/registry`, {
    config: { role: 'viewer' },
    schema: {
      summary: 'The partner registry the data was judged with: version, region, partners and their validity', tags: ['registry'],
      security, response: { 200: RegistryBody, ...ERROR_RESPONSES, 404: ERROR_RESPONSES[400] },
    },
  }, async (_request, reply) => {
    const registry = context.registry === null || context.registry === undefined ? null : await context.registry.current();
    if (registry === null) {
      return reply.code(404).send({ error: { code: 'INPUT_UNREADABLE', message: 'no registry is known for this store: scan with --registry, or start serve with --registry FILE' } });
    }
    return registryJson(registry);
  });

  app.get<{ Querystring: AuditQuery }>(`${API_PREFIX}/audit`, {
    config: { role: 'privacy_officer' },
    schema: {
      summary: 'Audit entries of who-saw and affected lookups, oldest first', tags: ['audit'],
      security, querystring: AuditQuery, response: { 200: AuditBody, ...ERROR_RESPONSES },
    },
  }, async (request, reply) => {
    const window = windowOf(request.query.from, request.query.to);
    const entries: AuditEntry[] = [];
    for (const [i, line] of (await context.store.audit.lines()).entries()) {
      const entry = parseEntry(line);
      if (entry === null) throw new LeakscopeError('AUDIT_TAMPERED', `audit line ${i + 1} is not an entry: run leakscope audit verify`);
      const at = Date.parse(entry.at);
      if ((window.from === null || at >= window.from) && (window.to === null || at < window.to)) entries.push(entry);
    }
    reply.header('Cache-Control', 'no-store');
    return { entries };
  });
}
