// Telemetry of the streaming services: pino loggers per component, Prometheus metrics, and
// the /metrics + /healthz endpoint.
export { componentLogger, createLogger, silentLogger } from './logger.js';
export type { Component, Logger, LoggerOptions } from './logger.js';
export { collectProcessMetrics, createMetrics } from './metrics.js';
export type { MetricsOptions, StreamMetrics } from './metrics.js';
export { METRICS_PORT_FLAG, parseMetricsPort, startTelemetryServer } from './http-server.js';
export { redactNumbers } from './redact.js';
export type { Health, TelemetryServer } from './http-server.js';
