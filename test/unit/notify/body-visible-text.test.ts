// Webhook bodies are JSON outputs like every other (README "Input hardening and privacy"):
// a control or bidi character that came from the logs (a host, a channel) is written as a \u
// escape, so a SOC console showing the body cannot be steered by it, and the value reads back
// unchanged.
import { describe, expect, it } from 'vitest';
import { renderDelivery, verifySignature } from '../../../services/notify/index.js';
import { firstDisclosure } from './fixtures.js';

const T = Date.UTC(2012, 0, 10, 9, 31, 2);
const HOSTILE_HOST = 'www.\u202etxt.exe\u001b]8;;http://evil.example\u0007.news.example\u2028';
const RAW = /[\u0000-\u001f\u007f-\u009f\u200b\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]/u;

function hostile() {
  return { ...firstDisclosure('news.example', T), host: HOSTILE_HOST, channels: ['header:x-\u202emsisdn'] };
}

describe('a webhook body', () => {
  it.each([
    ['leakscope', [hostile()]],
    ['alertmanager', [hostile()]],
    ['cloudevents', [hostile()]],
    ['cloudevents', [hostile(), { ...hostile(), site: 'b.example' }]],
  ] as const)('in the %s format holds no raw control or bidi character, and reads back the same values', (format, alerts) => {
    const secret = 'route-secret';
    const req = renderDelivery({ format, url: 'https://soc.example/h', secret }, alerts, 1_700_000_000);
    expect(req.body).not.toMatch(RAW);
    expect(req.body).toContain('\\u202e');
    expect(req.body).toContain('\\u001b');
    expect(JSON.stringify(JSON.parse(req.body))).toContain(JSON.stringify(HOSTILE_HOST).slice(1, -1));
    if (format !== 'alertmanager') {
      expect(verifySignature(secret, req.headers['x-leakscope-timestamp']!, req.body, req.headers['x-leakscope-signature']!)).toBe(true);
    }
  });
});
