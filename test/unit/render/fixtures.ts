// Report objects for the renderer tests, built the way the commands build them: buildReport over
// hand-made aggregates.
import { buildReport, type ReportJson } from '../../../services/store/index.js';
import type { ReportAggregates } from '../../../services/store/types.js';

const H = 3_600_000;
export const T0 = Date.parse('2012-01-10T00:00:00.000Z');
export const LEAK_WINDOW = { from: T0, to: Date.parse('2012-01-25T14:00:00.000Z') };

export const AGGREGATES: ReportAggregates = {
  totals: { violations: 17, subscribers: 9, sites: 3 },
  sites: [
    {
      site: 'news.co.uk', hosts: ['www.news.co.uk', 'm.news.co.uk'], violations: 4, subscribers: 3,
      firstSeen: T0 + 9 * H + 1_123, lastSeen: T0 + 30 * H, identifiers: ['referer', 'header:x-up-calling-line-id'],
      verdicts: { unauthorized_recipient: 4 },
    },
    {
      site: '<script>alert("x")</script>', hosts: ['<script>alert("x")</script>', 'a&b.example'], violations: 3, subscribers: 2,
      firstSeen: T0 + 50 * H, lastSeen: T0 + 51 * H, identifiers: ['header:x-msisdn'],
      verdicts: { unauthorized_recipient: 2, identifier_not_allowed: 1 },
    },
    {
      site: 'example.com', hosts: ['www.example.com'], violations: 10, subscribers: 7,
      firstSeen: T0 + 9 * H, lastSeen: T0 + 373 * H, identifiers: ['header:x-msisdn', 'url'],
      verdicts: { unauthorized_recipient: 8, partner_inactive: 2 },
    },
  ],
  timeline: [
    { bucket: T0 + 9 * H, violations: 5 },
    { bucket: T0 + 30 * H, violations: 2 },
    { bucket: T0 + 50 * H, violations: 2 },
    { bucket: T0 + 51 * H, violations: 1 },
    { bucket: T0 + 200 * H, violations: 6 },
    { bucket: T0 + 373 * H, violations: 1 },
  ],
};

export function sampleReport(): ReportJson {
  return buildReport(LEAK_WINDOW, AGGREGATES);
}
