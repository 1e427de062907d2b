import type { AvroLeakAlert } from '../../../services/avro/index.js';
import { alertId } from '../../../services/detector/index.js';

export function firstDisclosure(site: string, firstSeen: number): AvroLeakAlert {
  return {
    id: alertId('first_disclosure', site), kind: 'first_disclosure', site, host: `www.${site}`, verdict: 'unauthorized_recipient',
    partner_id: null, channels: ['header:x-up-calling-line-id'], subscriber_masked: '+4477009****23', sites: [], first_seen: firstSeen,
    count: 1, detected_at: firstSeen + 500, registry_version: '2012-01-31.1', status: 'firing', resolves: null, ends_at: null,
  };
}

export function spread(start: number, sites: string[], status: 'firing' | 'resolved' = 'firing'): AvroLeakAlert {
  const firing = alertId('spread', String(start));
  return {
    id: status === 'firing' ? firing : alertId('spread.resolved', String(start)), kind: 'spread', site: null, host: null, verdict: null,
    partner_id: null, channels: [], subscriber_masked: null, sites, first_seen: start, count: sites.length, detected_at: start + 1000,
    registry_version: '2012-01-31.1', status, resolves: status === 'firing' ? null : firing, ends_at: status === 'firing' ? null : start + 3_600_000,
  };
}
