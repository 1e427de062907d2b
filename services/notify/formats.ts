// The three wire formats of a delivery (docs/notify.md has example payloads). Pure: alerts,
// the route and the time in; the HTTP request (url, headers, body) out.
//
// leakscope: {"alerts": [LeakAlert, …]}, signed. alertmanager: Alertmanager's own alert objects
// for POST /api/v2/alerts. cloudevents: structured mode (one event, application/cloudevents+json),
// or batched mode (application/cloudevents-batch+json) when a group holds several alerts.
// Bodies are written as every JSON output is: control and bidi characters as \u escapes.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AlertKind, AvroLeakAlert } from '../avro/index.js';
import { safeJson } from '../core/visible-text.js';
import type { RouteConfig } from './config.js';

export const SIGNATURE_HEADER = 'x-leakscope-signature';
export const TIMESTAMP_HEADER = 'x-leakscope-timestamp';

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** `sha256=HEX`: HMAC-SHA-256 of `TIMESTAMP.BODY` with the route's secret. */
export function sign(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: recompute and compare in constant time. */
export function verifySignature(secret: string, timestamp: string, body: string, signature: string): boolean {
  if (!/^[0-9]{1,12}$/.test(timestamp)) return false;
  const expected = Buffer.from(sign(secret, Number(timestamp), body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The incident first, then in request-time order (a reader sees the incident before its sites). */
export function deliveryOrder(alerts: readonly AvroLeakAlert[]): AvroLeakAlert[] {
  return [...alerts].sort((a, b) => Number(b.kind === 'spread') - Number(a.kind === 'spread') || a.first_seen - b.first_seen || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const ALERT_NAMES: Record<AlertKind, string> = {
  first_disclosure: 'LeakscopeFirstDisclosure',
  spread: 'LeakscopeSpread',
  partner_drift: 'LeakscopePartnerDrift',
  partner_inactive: 'LeakscopePartnerInactive',
};

const SEVERITY: Record<AlertKind, string> = { spread: 'critical', first_disclosure: 'warning', partner_drift: 'warning', partner_inactive: 'warning' };

const iso = (ms: number): string => new Date(ms).toISOString();

export function summaryOf(a: AvroLeakAlert): string {
  switch (a.kind) {
    case 'spread':
      return a.status === 'resolved'
        ? `Incident over: ${a.count} sites received subscriber identifiers; no new site since ${iso((a.ends_at ?? a.first_seen))}`
        : `Incident: ${a.count} sites received subscriber identifiers for the first time since ${iso(a.first_seen)}`;
    case 'first_disclosure':
      return `${a.site} received a subscriber identifier (${a.verdict}) via ${a.channels.join(', ')}`;
    case 'partner_drift':
      return `Partner ${a.partner_id} received ${a.channels.join(', ')}, which it may not (${a.site})`;
    case 'partner_inactive':
      return `Partner ${a.partner_id} received subscriber identifiers outside its contract's validity (${a.site})`;
  }
}

/** One Alertmanager alert. Labels are the identity (a resolution carries the firing alert's); empty ones are left out. */
export function alertmanagerAlert(a: AvroLeakAlert): Record<string, unknown> {
  const labels: Record<string, string> = {
    alertname: ALERT_NAMES[a.kind],
    kind: a.kind,
    severity: SEVERITY[a.kind],
    alert_id: a.resolves ?? a.id,
  };
  if (a.site !== null) labels.site = a.site;
  if (a.verdict !== null) labels.verdict = a.verdict;
  if (a.partner_id !== null) labels.partner = a.partner_id;
  const annotations: Record<string, string> = {
    summary: summaryOf(a),
    first_seen: iso(a.first_seen),
    detected_at: iso(a.detected_at),
    count: String(a.count),
    registry_version: a.registry_version,
  };
  if (a.host !== null) annotations.host = a.host;
  if (a.channels.length > 0) annotations.channels = a.channels.join(', ');
  if (a.subscriber_masked !== null) annotations.subscriber = a.subscriber_masked;
  if (a.sites.length > 0) annotations.sites = a.sites.join(', ');
  const out: Record<string, unknown> = { labels, annotations, startsAt: iso(a.first_seen) };
  if (a.status === 'resolved') out.endsAt = iso(Math.max(a.ends_at ?? a.detected_at, a.first_seen + 1));
  return out;
}

export function cloudEvent(a: AvroLeakAlert): Record<string, unknown> {
  return {
    specversion: '1.0',
    type: `io.leakscope.alert.${a.kind}`,
    source: 'urn:leakscope:detector',
    id: a.id,
    time: iso(a.detected_at),
    subject: a.site ?? (a.resolves ?? a.id),
    datacontenttype: 'application/json',
    data: a,
  };
}

/** The HTTP request delivering `alerts` (already in delivery order) on `route`, signed at `nowSeconds`. */
export function renderDelivery(route: Pick<RouteConfig, 'format' | 'url' | 'secret'>, alerts: readonly AvroLeakAlert[], nowSeconds: number): OutgoingRequest {
  let url = route.url;
  let body: string;
  let contentType: string;
  switch (route.format) {
    case 'leakscope':
      body = safeJson({ alerts });
      contentType = 'application/json';
      break;
    case 'alertmanager':
      url = `${route.url.replace(/\/+$/, '')}/api/v2/alerts`;
      body = safeJson(alerts.map(alertmanagerAlert));
      contentType = 'application/json';
      break;
    case 'cloudevents':
      if (alerts.length === 1) {
        body = safeJson(cloudEvent(alerts[0]!));
        contentType = 'application/cloudevents+json; charset=utf-8';
      } else {
        body = safeJson(alerts.map(cloudEvent));
        contentType = 'application/cloudevents-batch+json; charset=utf-8';
      }
      break;
  }
  const headers: Record<string, string> = { 'content-type': contentType, 'user-agent': 'leakscope-notify' };
  if (route.secret !== null && route.format !== 'alertmanager') {
    headers[TIMESTAMP_HEADER] = String(nowSeconds);
    headers[SIGNATURE_HEADER] = sign(route.secret, nowSeconds, body);
  }
  return { url, headers, body };
}
