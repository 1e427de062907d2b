// Every route of the API, with the role it needs and the schemas that validate its input and
// describe its answers (the OpenAPI document is generated from them).
import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../auth.js';
import type { ServeMetrics } from '../metrics.js';
import type { ServeOptions } from '../app.js';
import { registerLookupRoutes } from './lookups.js';
import { registerReadRoutes } from './reads.js';
import { registerServiceRoutes } from './service.js';
import { registerSessionRoutes } from './session.js';

export interface RouteContext extends ServeOptions {
  metrics: ServeMetrics;
  auth: Authenticator;
  version: string;
  /** Served over TLS: cookies are Secure. */
  tls: boolean;
}

export async function registerRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  registerServiceRoutes(app, context);
  registerSessionRoutes(app, context);
  registerReadRoutes(app, context);
  registerLookupRoutes(app, context);
}
