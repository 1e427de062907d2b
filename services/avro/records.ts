// The Avro records of schemas/*.avsc as TypeScript, and their mapping to and from the core's
// types. Avro uses snake_case (read by other languages and by ClickHouse); the core uses camelCase.
// A unit test checks that each interface here has exactly the fields of its .avsc file.

import type { GatewayRequest, PartnerEntry, Registry, Verdict } from '../core/types.js';
import type { StoredDisclosure } from '../store/types.js';
import { avroName, DISCLOSURE_COLUMNS } from '../store/columns.js';

export interface AvroHeader {
  name: string;
  value: string;
}

export interface AvroGatewayRequest {
  ts: number;
  request_key: string;
  gateway_id: string | null;
  request_id: string | null;
  msisdn: string | null;
  bearer: string | null;
  client_ip: string | null;
  method: string | null;
  scheme: string | null;
  host: string;
  port: number | null;
  path: string;
  query: string;
  headers: AvroHeader[];
  status: number | null;
  bytes: number | null;
}

export interface AvroPartnerPeriod {
  name: string;
  purposes: string[];
  domains: string[];
  identifiers: string[];
  valid_from: number | null;
  valid_to: number | null;
}

export interface AvroPartnerRecord {
  registry_version: string;
  region: string;
  identity_headers: string[];
  partner_count: number;
  partner_id: string;
  periods: AvroPartnerPeriod[];
}

export interface AvroDisclosure {
  id: string;
  request_key: string;
  ts: number;
  host: string;
  site: string;
  subscriber_hash: string | null;
  subscriber_masked: string | null;
  subscriber_enc: string | null;
  channels: string[];
  verdict: Verdict;
  partner_id: string | null;
  registry_version: string;
  gateway_id: string | null;
  bearer: string | null;
  method: string | null;
  scheme: string | null;
  path: string;
  query_masked: string;
  status: number | null;
}

export type AlertKind = 'first_disclosure' | 'spread' | 'partner_drift' | 'partner_inactive';
export type AlertStatus = 'firing' | 'resolved';

export interface AvroLeakAlert {
  id: string;
  kind: AlertKind;
  site: string | null;
  host: string | null;
  verdict: Verdict | null;
  partner_id: string | null;
  channels: string[];
  subscriber_masked: string | null;
  sites: string[];
  first_seen: number;
  count: number;
  detected_at: number;
  registry_version: string;
  status: AlertStatus;
  resolves: string | null;
  ends_at: number | null;
}

/** Record type of each schema, by the schema's short name (the .avsc file name). */
export interface AvroRecords {
  GatewayRequest: AvroGatewayRequest;
  PartnerRecord: AvroPartnerRecord;
  Disclosure: AvroDisclosure;
  LeakAlert: AvroLeakAlert;
}

export type SchemaName = keyof AvroRecords;
export const SCHEMA_NAMES: readonly SchemaName[] = Object.freeze(['GatewayRequest', 'PartnerRecord', 'Disclosure', 'LeakAlert'] as const);

export function toAvroGatewayRequest(r: GatewayRequest): AvroGatewayRequest {
  const headers: AvroHeader[] = new Array(r.headers.length);
  for (let i = 0; i < r.headers.length; i++) {
    const h = r.headers[i] as readonly [string, string];
    headers[i] = { name: h[0], value: h[1] };
  }
  return {
    ts: r.ts,
    request_key: r.requestKey,
    gateway_id: r.gatewayId,
    request_id: r.requestId,
    msisdn: r.msisdn,
    bearer: r.bearer,
    client_ip: r.clientIp,
    method: r.method,
    scheme: r.scheme,
    host: r.host,
    port: r.port,
    path: r.path,
    query: r.query,
    headers,
    status: r.status,
    bytes: r.bytes,
  };
}

export function fromAvroGatewayRequest(a: AvroGatewayRequest): GatewayRequest {
  const headers: Array<readonly [string, string]> = new Array(a.headers.length);
  for (let i = 0; i < a.headers.length; i++) {
    const h = a.headers[i] as AvroHeader;
    headers[i] = [h.name, h.value];
  }
  return {
    ts: a.ts,
    requestKey: a.request_key,
    gatewayId: a.gateway_id,
    requestId: a.request_id,
    msisdn: a.msisdn,
    bearer: a.bearer,
    clientIp: a.client_ip,
    method: a.method,
    scheme: a.scheme,
    host: a.host,
    port: a.port,
    path: a.path,
    query: a.query,
    headers,
    status: a.status,
    bytes: a.bytes,
  };
}

/** What a partner-registry record says about the registry as a whole and about one partner. */
export interface PartnerRecordContent {
  registryVersion: string;
  region: string;
  identityHeaders: readonly string[];
  partnerCount: number;
  partnerId: string;
  entries: PartnerEntry[];
}

/**
 * One record per partner id, each holding every validity period of that partner (the topic is
 * compacted by partner id, so one record must carry them all). Partners in first-seen order.
 */
export function toAvroPartnerRecords(registry: Registry): AvroPartnerRecord[] {
  const byId = new Map<string, PartnerEntry[]>();
  for (const entry of registry.partners) {
    const list = byId.get(entry.id);
    if (list === undefined) byId.set(entry.id, [entry]);
    else list.push(entry);
  }
  const records: AvroPartnerRecord[] = [];
  for (const [partnerId, entries] of byId) {
    records.push({
      registry_version: registry.version,
      region: registry.region,
      identity_headers: [...registry.identityHeaders],
      partner_count: byId.size,
      partner_id: partnerId,
      periods: entries.map((e) => ({
        name: e.name,
        purposes: [...e.purposes],
        domains: [...e.domains],
        identifiers: [...e.identifiers],
        valid_from: e.validFrom,
        valid_to: e.validTo,
      })),
    });
  }
  return records;
}

export function fromAvroPartnerRecord(a: AvroPartnerRecord): PartnerRecordContent {
  return {
    registryVersion: a.registry_version,
    region: a.region,
    identityHeaders: a.identity_headers,
    partnerCount: a.partner_count,
    partnerId: a.partner_id,
    entries: a.periods.map((p) => ({
      id: a.partner_id,
      name: p.name,
      purposes: p.purposes,
      domains: p.domains,
      identifiers: p.identifiers,
      validFrom: p.valid_from,
      validTo: p.valid_to,
    })),
  };
}

/** The Avro form of a stored disclosure (services/store: the subscriber only protected), field by field from the shared column list. */
export function toAvroDisclosure(d: StoredDisclosure): AvroDisclosure {
  const fields = d as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const c of DISCLOSURE_COLUMNS) {
    const value = fields[c.field];
    out[avroName(c)] = c.kind === 'text[]' ? [...(value as string[])] : value;
  }
  return out as unknown as AvroDisclosure;
}

export function fromAvroDisclosure(a: AvroDisclosure): StoredDisclosure {
  const fields = a as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const c of DISCLOSURE_COLUMNS) out[c.field] = fields[avroName(c)];
  return out as unknown as StoredDisclosure;
}
