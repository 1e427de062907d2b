import { describe, expect, it } from 'vitest';
import type { Disclosure, Verdict } from '../../../services/core/types.js';
import { AlertTracker, alertId } from '../../../services/detector/index.js';

function disclosure(site: string, ts: number, verdict: Verdict = 'unauthorized_recipient'): Disclosure {
  return {
    id: `${site}-${ts}`, requestKey: `k-${site}-${ts}`, ts, host: `www.${site}`, site, subscriber: '+447700900123', channels: ['header:x-msisdn'],
    verdict, partnerId: verdict === 'unauthorized_recipient' ? null : 'p', registryVersion: 'v1', gatewayId: null, bearer: null,
    method: null, scheme: null, path: '/', queryMasked: '', status: null,
  };
}

describe('AlertTracker', () => {
  it('raises one first_disclosure alert per new site, with a deterministic id and a masked subscriber', () => {
    const t = new AlertTracker();
    const p = t.consider([disclosure('a.com', 2000), disclosure('a.com', 1000), disclosure('b.com', 1500, 'authorized')], 99);
    expect(p.alerts).toHaveLength(1);
    expect(p.alerts[0]).toMatchObject({ kind: 'first_disclosure', site: 'a.com', first_seen: 1000, count: 2, detected_at: 99, id: alertId('first_disclosure', 'a.com') });
    expect(p.alerts[0]!.subscriber_masked).not.toContain('900123');
    p.commit();
    expect(t.consider([disclosure('a.com', 3000)], 100).alerts).toHaveLength(0);
  });

  it('does not raise a site twice while its alert is in flight, and raises it again if the batch is abandoned', () => {
    const t = new AlertTracker();
    const first = t.consider([disclosure('a.com', 1)], 0);
    expect(t.consider([disclosure('a.com', 2)], 0).alerts).toHaveLength(0);
    first.abandon();
    expect(t.consider([disclosure('a.com', 2)], 0).alerts).toHaveLength(1);
  });

  it('raises nothing for sites seeded from the store', () => {
    const t = new AlertTracker();
    t.seed(['a.com']);
    expect(t.consider([disclosure('a.com', 1)], 0).alerts).toEqual([]);
  });

  it('raises one spread alert when enough sites get a first violation within one window of request time', () => {
    const t = new AlertTracker({ spreadSites: 3, spreadWindowMs: 60_000, spreadListLimit: 2 });
    const p1 = t.consider([disclosure('a.com', 1000), disclosure('b.com', 2000)], 0);
    expect(p1.alerts.map((a) => a.kind)).toEqual(['first_disclosure', 'first_disclosure']);
    p1.commit();
    const p2 = t.consider([disclosure('c.com', 3000), disclosure('d.com', 61_000)], 0);
    const spread = p2.alerts.filter((a) => a.kind === 'spread');
    expect(spread).toHaveLength(1);
    expect(spread[0]).toMatchObject({ count: 3, sites: ['a.com', 'b.com'], first_seen: 0, id: alertId('spread', '0') });
    p2.commit();
    expect(t.consider([disclosure('e.com', 4000)], 0).alerts.filter((a) => a.kind === 'spread')).toEqual([]);
  });
});
