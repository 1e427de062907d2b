import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AvroCodec } from '../../../services/avro/index.js';
import { alertmanagerAlert, cloudEvent, deliveryOrder, renderDelivery, sign, verifySignature } from '../../../services/notify/index.js';
import { firstDisclosure, spread } from './fixtures.js';

const T = Date.parse('2012-01-10T09:31:02.123Z');
const secret = 'a-secret-of-32-bytes-for-the-soc';

describe('delivery formats', () => {
  it('leakscope: {"alerts": [...]} signed over TIMESTAMP.BODY, verifiable by a receiver with the secret', () => {
    const req = renderDelivery({ format: 'leakscope', url: 'https://soc.example/h', secret }, [firstDisclosure('a.example', T)], 1_700_000_000);
    expect(req.url).toBe('https://soc.example/h');
    expect(JSON.parse(req.body)).toEqual({ alerts: [firstDisclosure('a.example', T)] });
    expect(req.headers['x-leakscope-timestamp']).toBe('1700000000');
    const expected = createHmac('sha256', secret).update(`1700000000.${req.body}`).digest('hex');
    expect(req.headers['x-leakscope-signature']).toBe(`sha256=${expected}`);
    expect(verifySignature(secret, '1700000000', req.body, req.headers['x-leakscope-signature']!)).toBe(true);
    expect(verifySignature(secret, '1700000001', req.body, req.headers['x-leakscope-signature']!)).toBe(false);
    expect(verifySignature('another-secret-of-enough-bytes', '1700000000', req.body, req.headers['x-leakscope-signature']!)).toBe(false);
    expect(verifySignature(secret, '1700000000', `${req.body} `, req.headers['x-leakscope-signature']!)).toBe(false);
  });

  it('puts the incident first, then the sites in request-time order', () => {
    const order = deliveryOrder([firstDisclosure('b.example', T + 2), spread(T, ['a.example', 'b.example']), firstDisclosure('a.example', T + 1)]);
    expect(order.map((a) => a.site ?? a.kind)).toEqual(['spread', 'a.example', 'b.example']);
  });

  it('alertmanager: POST base/api/v2/alerts with the labels of the contract; a resolution keeps the labels and sets endsAt', () => {
    const req = renderDelivery({ format: 'alertmanager', url: 'http://127.0.0.1:9093/', secret: null }, [firstDisclosure('a.example', T)], 0);
    expect(req.url).toBe('http://127.0.0.1:9093/api/v2/alerts');
    expect(req.headers['x-leakscope-signature']).toBeUndefined();
    const [am] = JSON.parse(req.body) as Array<Record<string, Record<string, string>>>;
    expect(am!.labels).toEqual({ alertname: 'LeakscopeFirstDisclosure', kind: 'first_disclosure', severity: 'warning', alert_id: firstDisclosure('a.example', T).id, site: 'a.example', verdict: 'unauthorized_recipient' });
    expect(am!.annotations).toMatchObject({ host: 'www.a.example', channels: 'header:x-up-calling-line-id', first_seen: '2012-01-10T09:31:02.123Z' });
    expect(am!.startsAt).toBe('2012-01-10T09:31:02.123Z');
    expect(am!.endsAt).toBeUndefined();
    const firing = alertmanagerAlert(spread(T, ['a.example']));
    const resolved = alertmanagerAlert(spread(T, ['a.example'], 'resolved'));
    expect(resolved.labels).toEqual(firing.labels);
    expect(firing.labels).toMatchObject({ alertname: 'LeakscopeSpread', severity: 'critical' });
    expect(resolved.endsAt).toBe(new Date(T + 3_600_000).toISOString());
  });

  it('cloudevents: one alert in structured mode, a group in batched mode; id is the alert id', () => {
    const one = renderDelivery({ format: 'cloudevents', url: 'https://ce.example/', secret: null }, [spread(T, ['a.example'])], 0);
    expect(one.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    const event = JSON.parse(one.body) as Record<string, unknown>;
    expect(event).toMatchObject({ specversion: '1.0', type: 'io.leakscope.alert.spread', id: spread(T, ['a.example']).id, datacontenttype: 'application/json' });
    expect(event.data).toEqual(spread(T, ['a.example']));
    const many = renderDelivery({ format: 'cloudevents', url: 'https://ce.example/', secret }, [firstDisclosure('a.example', T), firstDisclosure('b.example', T)], 5);
    expect(many.headers['content-type']).toBe('application/cloudevents-batch+json; charset=utf-8');
    expect((JSON.parse(many.body) as unknown[]).map((e) => (e as { type: string }).type)).toEqual(['io.leakscope.alert.first_disclosure', 'io.leakscope.alert.first_disclosure']);
    expect(many.headers['x-leakscope-signature']).toBe(sign(secret, 5, many.body));
    expect(cloudEvent(firstDisclosure('a.example', T)).subject).toBe('a.example');
  });

  it('sends alerts that still read as LeakAlert records (the JSON is the Avro record)', () => {
    const codec = new AvroCodec();
    const body = JSON.parse(renderDelivery({ format: 'leakscope', url: 'https://x.example', secret }, [spread(T, ['a.example'], 'resolved')], 0).body) as { alerts: unknown[] };
    const a = body.alerts[0] as ReturnType<typeof spread>;
    expect(codec.decodeAs('LeakAlert', codec.encode('LeakAlert', a))).toEqual(a);
  });
});
