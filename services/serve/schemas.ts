// The request and response schemas of the API, in TypeBox (JSON Schema). The same objects
// validate requests (unknown fields refused) and make the OpenAPI document, so the two
// cannot drift apart; a test validates every response of the API suite against that document.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const Iso = Type.String({ description: 'ISO-8601 time with a zone (2012-01-10T09:30:00Z) or a date (2012-01-10 = 00:00 UTC)', maxLength: 40 });
const IsoOut = Type.String({ description: 'ISO-8601 UTC time with milliseconds', format: 'date-time' });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'an error code of docs/errors.md' }),
    message: Type.String(),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

export const VerdictSchema = Type.Union([
  Type.Literal('authorized'), Type.Literal('identifier_not_allowed'), Type.Literal('partner_inactive'), Type.Literal('unauthorized_recipient'),
]);

export const ReportQuery = Type.Object({
  from: Iso,
  to: Iso,
  site: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: 'one site; a host means its site' })),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('html')], { default: 'json' })),
}, { additionalProperties: false });
export type ReportQuery = Static<typeof ReportQuery>;

export const ReportBody = Type.Object({
  window: Type.Object({ from: IsoOut, to: IsoOut }, { additionalProperties: false }),
  totals: Type.Object({ violations: Type.Integer(), subscribers: Type.Integer(), sites: Type.Integer() }, { additionalProperties: false }),
  sites: Type.Array(Type.Object({
    site: Type.String(),
    hosts: Type.Array(Type.String()),
    violations: Type.Integer(),
    subscribers: Type.Integer(),
    first_seen: IsoOut,
    last_seen: IsoOut,
    identifiers: Type.Array(Type.String()),
    verdicts: Type.Object({
      identifier_not_allowed: Type.Optional(Type.Integer()),
      partner_inactive: Type.Optional(Type.Integer()),
      unauthorized_recipient: Type.Optional(Type.Integer()),
    }, { additionalProperties: false }),
  }, { additionalProperties: false })),
  timeline: Type.Array(Type.Object({ bucket: IsoOut, violations: Type.Integer() }, { additionalProperties: false })),
}, { additionalProperties: false });

export const WhoSawRequest = Type.Object({
  number: Type.String({ minLength: 1, maxLength: 40, description: 'the subscriber number in any usual spelling; it travels only in the body' }),
  from: Type.Optional(Iso),
  to: Type.Optional(Iso),
  reason: Type.String({ minLength: 1, maxLength: 500, description: 'why the lookup is made (e.g. a ticket id); kept in the audit; must not hold a phone number' }),
}, { additionalProperties: false });
export type WhoSawRequest = Static<typeof WhoSawRequest>;

export const WhoSawBody = Type.Object({
  subscriber: Type.String({ description: 'the number, masked' }),
  window: Type.Object({ from: Nullable(IsoOut), to: Nullable(IsoOut) }, { additionalProperties: false }),
  recipients: Type.Array(Type.Object({
    site: Type.String(),
    host: Type.String(),
    verdict: VerdictSchema,
    partner: Nullable(Type.String()),
    requests: Type.Integer(),
    identifiers: Type.Array(Type.String()),
    first_seen: IsoOut,
    last_seen: IsoOut,
  }, { additionalProperties: false })),
}, { additionalProperties: false });

export const AffectedRequest = Type.Object({
  from: Iso,
  to: Iso,
  reason: Type.String({ minLength: 1, maxLength: 500, description: 'why the list is exported; kept in the audit' }),
}, { additionalProperties: false });
export type AffectedRequest = Static<typeof AffectedRequest>;

export const AlertsQuery = Type.Object({
  since: Type.Optional(Iso),
}, { additionalProperties: false });
export type AlertsQuery = Static<typeof AlertsQuery>;

export const AlertJson = Type.Object({
  id: Type.String(),
  kind: Type.String({ description: 'first_disclosure, spread, …' }),
  site: Nullable(Type.String()),
  host: Nullable(Type.String()),
  verdict: Nullable(VerdictSchema),
  partner_id: Nullable(Type.String()),
  channels: Type.Array(Type.String()),
  subscriber_masked: Nullable(Type.String()),
  sites: Type.Array(Type.String()),
  first_seen: IsoOut,
  count: Type.Integer(),
  detected_at: IsoOut,
  registry_version: Type.String(),
}, { additionalProperties: false });
export type AlertJson = Static<typeof AlertJson>;

export const AlertsBody = Type.Object({
  source: Type.String({ description: 'where the alerts come from' }),
  alerts: Type.Array(AlertJson, { description: 'newest first' }),
}, { additionalProperties: false });

export const RegistryBody = Type.Object({
  version: Type.String(),
  region: Type.String(),
  identity_headers: Type.Array(Type.String()),
  partners: Type.Array(Type.Object({
    id: Type.String(),
    name: Type.String(),
    purposes: Type.Array(Type.String()),
    domains: Type.Array(Type.String()),
    identifiers: Type.Array(Type.String()),
    valid_from: Nullable(IsoOut),
    valid_to: Nullable(IsoOut),
  }, { additionalProperties: false })),
}, { additionalProperties: false });

export const AuditQuery = Type.Object({
  from: Type.Optional(Iso),
  to: Type.Optional(Iso),
}, { additionalProperties: false });
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditEntryJson = Type.Object({
  seq: Type.Integer(),
  at: IsoOut,
  actor: Type.String(),
  role: Type.String(),
  action: Type.Union([Type.Literal('who-saw'), Type.Literal('affected')]),
  subscriber_hash: Nullable(Type.String()),
  window: Type.Object({ from: Nullable(Type.String()), to: Nullable(Type.String()) }, { additionalProperties: false }),
  reason: Type.String(),
  results: Type.Integer(),
  prev: Type.String(),
  hash: Type.String(),
}, { additionalProperties: false });

export const AuditBody = Type.Object({
  entries: Type.Array(AuditEntryJson, { description: 'oldest first' }),
}, { additionalProperties: false });

export const SessionRequest = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 200 }),
}, { additionalProperties: false });
export type SessionRequest = Static<typeof SessionRequest>;

export const SessionBody = Type.Object({
  user: Type.String(),
  role: Type.String(),
  csrf_token: Type.String({ description: 'send it as the X-CSRF-Token header on every changing request made with the session cookie' }),
  expires_at: IsoOut,
}, { additionalProperties: false });

export const HealthBody = Type.Object({
  ok: Type.Boolean(),
  store: Type.String({ description: 'duckdb or clickhouse' }),
  version: Type.String(),
}, { additionalProperties: false });

/** Responses every authenticated route may give besides its answer. */
export const ERROR_RESPONSES = {
  400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 500: ErrorBody, 503: ErrorBody,
} as const;
