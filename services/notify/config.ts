// notify.yaml: the routes alerts are delivered to. Read and validated once at start (JSON
// Schema through ajv, every problem named by its path, unknown keys refused), secrets taken
// from the environment (never from the file), defaults filled in, then frozen. The format is
// documented in docs/notify.md.
import { readFile } from 'node:fs/promises';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { LeakscopeError } from '../core/errors.js';
import type { AlertKind } from '../avro/index.js';

export const ALERT_KINDS: readonly AlertKind[] = Object.freeze(['first_disclosure', 'spread', 'partner_drift', 'partner_inactive'] as const);
export const ROUTE_FORMATS = Object.freeze(['leakscope', 'alertmanager', 'cloudevents'] as const);
export type RouteFormat = (typeof ROUTE_FORMATS)[number];

export interface RetrySettings {
  /** First wait before a retry, ms; doubles each time (full jitter). Default 500. */
  initialMs: number;
  /** Longest wait between two attempts, ms. Default 30 000. */
  maxMs: number;
  /** No retry starts later than this after the first attempt, ms: then the alerts go to the DLQ. Default 300 000. */
  budgetMs: number;
  /** Attempts in all (the first included) before the DLQ. Default 10. */
  maxAttempts: number;
}

export interface RouteConfig {
  /** Unique name: metrics label and DLQ reason. */
  name: string;
  /** Where to POST (http or https). For `alertmanager`, the Alertmanager's base URL. */
  url: string;
  format: RouteFormat;
  /** HMAC key of the signature, from the environment variable the file names (secret_env). Null: unsigned (cloudevents only). */
  secret: string | null;
  /** The environment variable the secret came from (for messages), or null. */
  secretEnv: string | null;
  /** Kinds delivered on this route. Default: all. */
  kinds: ReadonlySet<AlertKind>;
  /** Alerts arriving within this long of the route's last delivery wait and go out together, ms. Default 10 000. */
  groupIntervalMs: number;
  /** An alert arriving on an idle route waits this long for others, ms. Default 0 (sent at once). */
  groupWaitMs: number;
  /** Most alerts in one delivery; more are sent as several. Default 500. */
  maxAlertsPerDelivery: number;
  /** One HTTP attempt gives up after this long (counted as a timeout, retried), ms. Default 5000. */
  timeoutMs: number;
  retry: Readonly<RetrySettings>;
}

export interface NotifyConfig {
  routes: readonly Readonly<RouteConfig>[];
}

const RETRY_DEFAULTS: RetrySettings = { initialMs: 500, maxMs: 30_000, budgetMs: 300_000, maxAttempts: 10 };

const positive = { type: 'integer', minimum: 1 } as const;
const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['routes'],
  properties: {
    routes: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'url', 'format'],
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
          url: { type: 'string', minLength: 1 },
          format: { enum: [...ROUTE_FORMATS] },
          secret_env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
          kinds: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...ALERT_KINDS] } },
          group_interval_ms: { type: 'integer', minimum: 0 },
          group_wait_ms: { type: 'integer', minimum: 0 },
          max_alerts_per_delivery: positive,
          timeout_ms: positive,
          retry: {
            type: 'object',
            additionalProperties: false,
            properties: { initial_ms: positive, max_ms: positive, budget_ms: positive, max_attempts: positive },
          },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
const validate = ajv.compile(SCHEMA);

interface RawRoute {
  name: string;
  url: string;
  format: RouteFormat;
  secret_env?: string;
  kinds?: AlertKind[];
  group_interval_ms?: number;
  group_wait_ms?: number;
  max_alerts_per_delivery?: number;
  timeout_ms?: number;
  retry?: { initial_ms?: number; max_ms?: number; budget_ms?: number; max_attempts?: number };
}

/** `routes[1].format` from ajv's `/routes/1/format`. */
function where(e: ErrorObject): string {
  const path = e.instancePath.split('/').slice(1).map((p) => (/^[0-9]+$/.test(p) ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
  return path === '' ? '(top level)' : path;
}

function describeError(e: ErrorObject): string {
  switch (e.keyword) {
    case 'additionalProperties': return `${where(e)}: unknown key "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    case 'required': return `${where(e)}: missing "${(e.params as { missingProperty: string }).missingProperty}"`;
    case 'enum': return `${where(e)}: ${JSON.stringify(e.data)} is not one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    default: return `${where(e)}: ${JSON.stringify(e.data)} ${e.message ?? 'is not valid'}`;
  }
}

/** Validates parsed notify.yaml content; `env` supplies the secrets. Throws CONFIG_INVALID with every problem. */
export function notifyConfig(raw: unknown, env: NodeJS.ProcessEnv, source = 'notify.yaml'): Readonly<NotifyConfig> {
  const problems: string[] = [];
  const shapeOk = validate(raw);
  if (!shapeOk) for (const e of validate.errors ?? []) problems.push(describeError(e));
  const routes: RouteConfig[] = [];
  const names = new Set<string>();
  const given = (raw as { routes?: unknown } | null)?.routes;
  // With a shape problem, the other checks still run on the routes that can be read, so every problem is named at once.
  const readable = (Array.isArray(given) ? given : []).map((r, i) => [r, i] as const)
    .filter(([r]) => shapeOk || (typeof r === 'object' && r !== null && typeof r.name === 'string' && typeof r.url === 'string' && typeof r.format === 'string'
      && (r.secret_env === undefined || typeof r.secret_env === 'string') && (r.retry === undefined || (typeof r.retry === 'object' && r.retry !== null))));
  readable.forEach(([route, i]) => {
    const r = route as RawRoute;
    const at = `routes[${i}]`;
    if (names.has(r.name)) problems.push(`${at}.name: "${r.name}" is used by an earlier route; names must be unique`);
    names.add(r.name);
    let url: URL | null = null;
    try {
      url = new URL(r.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`${at}.url: ${JSON.stringify(r.url)} is not an http or https URL`);
      if (url.username !== '' || url.password !== '') problems.push(`${at}.url: credentials in the URL are refused (the file is not a place for secrets)`);
    } catch {
      problems.push(`${at}.url: ${JSON.stringify(r.url)} is not a URL`);
    }
    let secret: string | null = null;
    if (r.secret_env !== undefined) {
      const value = env[r.secret_env];
      if (value === undefined || value === '') problems.push(`${at}.secret_env: environment variable ${r.secret_env} is not set`);
      else if (Buffer.byteLength(value, 'utf8') < 16) problems.push(`${at}.secret_env: ${r.secret_env} holds ${Buffer.byteLength(value, 'utf8')} bytes; a signing secret needs at least 16`);
      else secret = value;
      if (r.format === 'alertmanager') problems.push(`${at}.secret_env: the alertmanager format is not signed (Alertmanager checks no signature); remove secret_env`);
    } else if (r.format === 'leakscope') {
      problems.push(`${at}.secret_env: the leakscope format is signed; name the environment variable holding the route's secret`);
    }
    const retry: RetrySettings = {
      initialMs: r.retry?.initial_ms ?? RETRY_DEFAULTS.initialMs,
      maxMs: r.retry?.max_ms ?? RETRY_DEFAULTS.maxMs,
      budgetMs: r.retry?.budget_ms ?? RETRY_DEFAULTS.budgetMs,
      maxAttempts: r.retry?.max_attempts ?? RETRY_DEFAULTS.maxAttempts,
    };
    if (retry.initialMs > retry.maxMs) problems.push(`${at}.retry: initial_ms ${retry.initialMs} is more than max_ms ${retry.maxMs}`);
    routes.push({
      name: r.name,
      url: url === null ? r.url : url.toString(),
      format: r.format,
      secret,
      secretEnv: r.secret_env ?? null,
      kinds: new Set(r.kinds ?? ALERT_KINDS),
      groupIntervalMs: r.group_interval_ms ?? 10_000,
      groupWaitMs: r.group_wait_ms ?? 0,
      maxAlertsPerDelivery: r.max_alerts_per_delivery ?? 500,
      timeoutMs: r.timeout_ms ?? 5000,
      retry: Object.freeze(retry),
    });
  });
  if (problems.length > 0) throw refused(source, problems);
  return Object.freeze({ routes: Object.freeze(routes.map((r) => Object.freeze(r))) });
}

function refused(source: string, problems: string[]): LeakscopeError {
  return new LeakscopeError('CONFIG_INVALID', `notify config ${source} is invalid: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, { problems });
}

/** Reads and validates a notify.yaml file. */
export async function loadNotifyConfig(path: string, env: NodeJS.ProcessEnv): Promise<Readonly<NotifyConfig>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new LeakscopeError('INPUT_UNREADABLE', `${path}: cannot read the notify config: ${(err as Error).message}`, { cause: err });
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw refused(path, doc.errors.map((e) => `line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`));
  }
  return notifyConfig(doc.toJS(), env, path);
}
