// A tiny HTTP server for a service's telemetry: GET /metrics (Prometheus text format) and
// GET /healthz (200 `{"status":"ok"}` while the service reports itself healthy, 503 otherwise).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LeakscopeError } from '../core/errors.js';
import type { StreamMetrics } from './metrics.js';
// The flag is declared here, beside the server it configures; CLI flags are parsed in one place.
import { parseIntegerFlag } from '../cli/flags.js';

export interface Health {
  ok: boolean;
  /** Shown in the /healthz body, e.g. `{registry_version: '…', partitions: 2}`. */
  details?: Record<string, unknown>;
}

export interface TelemetryServer {
  /** The port actually bound (useful with port 0 = any free port). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listens on `host:port` (default 127.0.0.1). A port of 0 here means "any free port"; the CLI
 * flag's 0 ("off") is handled by the caller, which then does not start a server at all.
 */
export async function startTelemetryServer(
  metrics: Pick<StreamMetrics, 'registry'>,
  health: () => Health,
  options: { port: number; host?: string },
): Promise<TelemetryServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
      );
      return;
    }
    if (path === '/healthz') {
      const h = health();
      res.writeHead(h.ok ? 200 : 503, { 'Content-Type': 'application/json' })
        .end(`${JSON.stringify({ status: h.ok ? 'ok' : 'unhealthy', ...(h.details ?? {}) })}\n`);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new LeakscopeError('CONFIG_INVALID', `metrics server: cannot listen on ${options.host ?? '127.0.0.1'}:${options.port}: ${err.message}`, { cause: err })));
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections?.(); }),
  };
}

/** `--metrics-port N` as declared for parseCommandFlags: 0 (the default) is off; otherwise a TCP port. */
export const METRICS_PORT_FLAG = { type: 'integer', minimum: 0, maximum: 65535, default: 0 } as const;

/** `--metrics-port N` read alone: a thin wrapper of the flag parser, kept for callers that declare it as a string. */
export function parseMetricsPort(value: string | undefined): number {
  return parseIntegerFlag(value, '--metrics-port', METRICS_PORT_FLAG) ?? 0;
}
