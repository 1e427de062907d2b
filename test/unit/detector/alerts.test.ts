import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../../services/core/types.js';
import type { StoredDisclosure } from '../../../services/store/types.js';
import { AlertTracker, alertId } from '../../../services/detector/index.js';
import { AvroCodec } from '../../../services/avro/index.js';

function disclosure(site: string, ts: number, verdict: Verdict = 'unauthorized_recipient', partnerId: string | null = null, channels: string[] = ['header:x-msisdn']): StoredDisclosure {
  return {
    id: `${site}-${ts}`, requestKey: `k-${site}-${ts}`, ts, host: `www.${site}`, site, subscriberHash: 'h', subscriberMasked: '+4477009****23', subscriberEnc: null, channels,
    verdict, partnerId: partnerId ?? (verdict === 'unauthorized_recipient' ? null : 'p'), registryVersion: 'v1', gatewayId: null, bearer: null,
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

  const quiet = { spreadSites: 3, spreadWindowMs: 60_000, spreadListLimit: 10, spreadQuietMs: 300_000 };

  it('keeps one incident open while new sites keep coming, and resolves it after the quiet stretch of request time', () => {
    const t = new AlertTracker(quiet);
    const open = t.consider([disclosure('a.com', 1000), disclosure('b.com', 2000), disclosure('c.com', 3000)], 7);
    const firing = open.alerts.filter((a) => a.kind === 'spread');
    expect(firing).toHaveLength(1);
    expect(firing[0]).toMatchObject({ status: 'firing', resolves: null, ends_at: null, count: 3, id: alertId('spread', '0') });
    open.commit();
    // Three more new sites in later windows join the open incident: no second page.
    const more = t.consider([disclosure('d.com', 100_000), disclosure('e.com', 150_000), disclosure('f.com', 200_000)], 8);
    expect(more.alerts.filter((a) => a.kind === 'spread')).toEqual([]);
    more.commit();
    expect(t.incidentOpen).toBe(true);
    // Request time moves on (repeat violations, authorised traffic) without a new site: not yet quiet.
    expect(t.consider([disclosure('a.com', 499_999)], 9).alerts).toEqual([]);
    const resolved = t.consider([disclosure('a.com', 500_000)], 10).alerts;
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({
      kind: 'spread', status: 'resolved', id: alertId('spread.resolved', '0'), resolves: alertId('spread', '0'),
      count: 6, sites: ['a.com', 'b.com', 'c.com', 'd.com', 'e.com', 'f.com'], first_seen: 0, ends_at: 500_000, detected_at: 10,
    });
    expect(t.incidentOpen).toBe(false);
  });

  it('resolves from the watermark of authorised traffic too, and a later burst opens a new incident', () => {
    const t = new AlertTracker(quiet);
    t.consider([disclosure('a.com', 1000), disclosure('b.com', 2000), disclosure('c.com', 3000)], 0).commit();
    expect(t.consider([], 0, 303_000).alerts.map((a) => a.status)).toEqual(['resolved']);
    const again = t.consider([disclosure('x.com', 900_000), disclosure('y.com', 900_001), disclosure('z.com', 900_002)], 0).alerts;
    expect(again.filter((a) => a.kind === 'spread').map((a) => [a.status, a.id])).toEqual([['firing', alertId('spread', '900000')]]);
  });

  it('a new site after the quiet stretch closes the old incident before starting anything else', () => {
    const t = new AlertTracker(quiet);
    t.consider([disclosure('a.com', 1000), disclosure('b.com', 2000), disclosure('c.com', 3000)], 0).commit();
    const p = t.consider([disclosure('late.com', 400_000)], 0);
    expect(p.alerts.map((a) => `${a.kind}:${a.status}`)).toEqual(['first_disclosure:firing', 'spread:resolved']);
    expect(p.alerts[1]!.sites).not.toContain('late.com');
  });

  it('counts a site in the window of its earliest violation even when partitions arrive out of request-time order', () => {
    const t = new AlertTracker(quiet);
    // One partition first: the sites' violations it holds are days later than their first ones.
    t.consider([disclosure('a.com', 900_000_000), disclosure('b.com', 900_000_001)], 0).commit();
    const p = t.consider([disclosure('a.com', 1000), disclosure('b.com', 2000), disclosure('c.com', 3000)], 0);
    expect(p.alerts.filter((a) => a.kind === 'first_disclosure').map((a) => a.site)).toEqual(['c.com']);
    expect(p.alerts.filter((a) => a.kind === 'spread' && a.status === 'firing').map((a) => [a.id, a.count])).toEqual([[alertId('spread', '0'), 3]]);
  });

  it('sends the incident alerts of an abandoned batch with the next batch', () => {
    const t = new AlertTracker(quiet);
    const p = t.consider([disclosure('a.com', 1000), disclosure('b.com', 2000), disclosure('c.com', 3000)], 0);
    p.abandon();
    const retry = t.consider([disclosure('a.com', 1000), disclosure('b.com', 2000), disclosure('c.com', 3000)], 1);
    expect(retry.alerts.filter((a) => a.kind === 'spread').map((a) => a.id)).toEqual([alertId('spread', '0')]);
    expect(retry.alerts.filter((a) => a.kind === 'first_disclosure')).toHaveLength(3);
  });

  it('raises partner_drift once per partner and channel set, and partner_inactive once per partner', () => {
    const t = new AlertTracker();
    const p = t.consider([
      disclosure('ageverify.example', 10, 'identifier_not_allowed', 'ageverify', ['referer']),
      disclosure('ageverify.example', 11, 'identifier_not_allowed', 'ageverify', ['referer']),
      disclosure('ageverify.example', 12, 'identifier_not_allowed', 'ageverify', ['url', 'header:x-msisdn']),
      disclosure('billing.example', 20, 'partner_inactive', 'billing'),
      disclosure('billing.example', 21, 'partner_inactive', 'billing'),
    ], 0);
    const byKind = (kind: string) => p.alerts.filter((a) => a.kind === kind);
    expect(byKind('partner_drift').map((a) => [a.partner_id, a.channels, a.count, a.first_seen])).toEqual([
      ['ageverify', ['referer'], 2, 10],
      ['ageverify', ['url', 'header:x-msisdn'], 1, 12],
    ]);
    expect(byKind('partner_drift')[1]!.id).toBe(alertId('partner_drift', 'ageverify|header:x-msisdn,url'));
    expect(byKind('partner_inactive').map((a) => [a.id, a.partner_id, a.count])).toEqual([[alertId('partner_inactive', 'billing'), 'billing', 2]]);
    expect(byKind('first_disclosure').map((a) => a.site)).toEqual(['ageverify.example', 'billing.example']);
    p.commit();
    expect(t.consider([disclosure('other.example', 30, 'identifier_not_allowed', 'ageverify', ['referer'])], 0).alerts.map((a) => a.kind)).toEqual(['first_disclosure']);
  });

  it('raises no partner alert for one already stored', () => {
    const t = new AlertTracker();
    t.seedAlerts([{ kind: 'partner_inactive', site: 'billing.example', partner_id: 'billing', channels: [] }]);
    expect(t.consider([disclosure('billing.example', 20, 'partner_inactive', 'billing')], 0).alerts.map((a) => a.kind)).toEqual(['first_disclosure']);
  });

  it('writes every alert it raises as a valid LeakAlert', () => {
    const codec = new AvroCodec();
    const t = new AlertTracker(quiet);
    const alerts = [
      ...t.consider([disclosure('a.com', 1000), disclosure('b.com', 2000, 'identifier_not_allowed'), disclosure('c.com', 3000, 'partner_inactive')], 0).alerts,
      ...t.consider([], 0, 10_000_000).alerts,
    ];
    expect(alerts.map((a) => a.kind).sort()).toEqual(['first_disclosure', 'first_disclosure', 'first_disclosure', 'partner_drift', 'partner_inactive', 'spread', 'spread']);
    for (const a of alerts) expect(codec.decodeAs('LeakAlert', codec.encode('LeakAlert', a))).toEqual(a);
  });
});
