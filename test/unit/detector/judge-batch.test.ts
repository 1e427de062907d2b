// Judging a batch without Kafka: Avro records in, stored disclosures, violations, rejects,
// verdict counts and alert decisions out.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AvroCodec, toAvroGatewayRequest, toAvroPartnerRecords, type AvroPartnerRecord } from '../../../services/avro/index.js';
import { parseNdjsonLine } from '../../../services/core/parse/index.js';
import { parseRegistry } from '../../../services/core/registry/index.js';
import { AlertTracker, judgeBatch, type BatchRecord, type JudgeContext } from '../../../services/detector/index.js';
import { REGISTRY_SETTINGS_KEY, RegistryState, type ActiveRegistry } from '../../../services/detector/registry-state/index.js';
import { JudgeThread } from '../../../services/detector/judge-thread.js';
import { Protector, type StoredDisclosure } from '../../../services/store/index.js';
import { decryptNumber } from '../../../services/core/privacy/index.js';

const codec = new AvroCodec();
const keys = { hashKey: Buffer.alloc(32, 7), encKey: Buffer.alloc(32, 9) };

const REGISTRY = `version: "v1"
region: GB
partners:
  - {id: ageverify, name: AgeVerify, domains: ["*.ageverify.example"], identifiers: [x-msisdn]}
  - {id: lapsed, name: Lapsed, domains: ["lapsed.example"], identifiers: [x-msisdn], valid_to: "2012-01-01T00:00:00Z"}
`;

function activeRegistry(text: string): ActiveRegistry {
  const registry = parseRegistry(text, 'test');
  const records = toAvroPartnerRecords(registry);
  const settings: AvroPartnerRecord = {
    registry_version: registry.version, region: registry.region, identity_headers: [...registry.identityHeaders],
    partner_count: records.length, partner_id: REGISTRY_SETTINGS_KEY, periods: [],
  };
  const state = new RegistryState(codec);
  for (const r of [...records, settings]) state.applyMessage(r.partner_id, codec.encode('PartnerRecord', r));
  expect(state.settle().kind).toBe('applied');
  return state.current!;
}

let offset = 0;
/** A gateway log line as the shipper would produce it: parsed, then Avro. */
function record(line: object): BatchRecord {
  const parsed = parseNdjsonLine(JSON.stringify(line));
  if (parsed.ok !== true) throw new Error(`fixture line does not parse: ${JSON.stringify(parsed)}`);
  return { offset: String(offset++), key: Buffer.from('k'), value: codec.encode('GatewayRequest', toAvroGatewayRequest(parsed.request)) };
}

const line = (n: number, host: string, headers: Record<string, string>, msisdn: string | null = '447700900123') => ({
  ts: `2012-01-10T09:${String(n).padStart(2, '0')}:00.000Z`, gateway_id: 'gw-1', request_id: `gw-1:${n}`, msisdn,
  url: `http://${host}/p`, headers: { Host: host, ...headers },
});

function context(overrides: Partial<JudgeContext> = {}): JudgeContext {
  return { codec, protector: new Protector(keys), active: activeRegistry(REGISTRY), alerts: new AlertTracker(), now: () => 42, ...overrides };
}

describe('judgeBatch', () => {
  it('gives each disclosing record its verdict, stores every disclosure protected and keeps the violations', async () => {
    const records = [
      record(line(1, 'www.ageverify.example', { 'X-MSISDN': '447700900123' })), // authorized
      record(line(2, 'news.example.com', { 'X-MSISDN': '447700900123' })), // unauthorized_recipient
      record(line(3, 'lapsed.example', { 'X-MSISDN': '447700900123' })), // partner_inactive
      record(line(4, 'www.ageverify.example', { 'X-UP-Calling-Line-ID': '447700900123' })), // identifier_not_allowed
      record(line(5, 'quiet.example.com', { 'User-Agent': 'x' })), // discloses nothing
    ];
    const judged = (await judgeBatch(records, context(), { source: 't/0' }))!;
    expect(judged.verdicts).toEqual({ authorized: 1, unauthorized_recipient: 1, partner_inactive: 1, identifier_not_allowed: 1 });
    expect(judged.stored).toHaveLength(4);
    expect(judged.violations.map((d) => d.site).sort()).toEqual(['ageverify.example', 'example.com', 'lapsed.example']);
    expect(judged.rejected).toEqual([]);
    expect(judged.active.registry.version).toBe('v1');
    const stored = JSON.stringify(judged.stored);
    expect(stored).not.toContain('447700900123'); // only the hash, the masked form and the ciphertext
  });

  it('rejects what does not decode, with its source and reason, and judges the rest', async () => {
    const good = record(line(1, 'news.example.com', { 'X-MSISDN': '447700900123' }));
    const records: BatchRecord[] = [
      { offset: '10', key: null, value: Buffer.from('not avro') },
      { offset: '11', key: Buffer.from('k'), value: null },
      good,
    ];
    const judged = (await judgeBatch(records, context(), { source: 'requests/3' }))!;
    expect(judged.rejected.map((r) => [r.offset, r.source])).toEqual([['10', 'requests/3@10'], ['11', 'requests/3@11']]);
    expect(judged.rejected[0]!.value).toEqual(Buffer.from('not avro'));
    expect(judged.rejected[1]!.reason).toMatch(/empty message/);
    expect(judged.rejected.every((r) => r.reason.length > 0)).toBe(true);
    expect(judged.stored).toHaveLength(1);
  });

  it('decides the first-disclosure alerts of the batch, remembered only once committed', async () => {
    const alerts = new AlertTracker();
    const ctx = context({ alerts });
    const records = [
      record(line(1, 'news.example.com', { 'X-MSISDN': '447700900123' })),
      record(line(2, 'www.news.example.com', { 'X-MSISDN': '447700900123' })),
      record(line(3, 'www.ageverify.example', { 'X-MSISDN': '447700900123' })), // authorized: no alert
    ];
    const first = (await judgeBatch(records, ctx, { source: 't/0' }))!;
    expect(first.alerts.alerts.map((a) => [a.kind, a.site, a.count, a.detected_at])).toEqual([['first_disclosure', 'example.com', 2, 42]]);
    first.alerts.abandon(); // not sent: the next batch raises it again
    const again = (await judgeBatch(records, ctx, { source: 't/0' }))!;
    expect(again.alerts.alerts).toHaveLength(1);
    again.alerts.commit();
    const third = (await judgeBatch(records, ctx, { source: 't/0' }))!;
    expect(third.alerts.alerts).toHaveLength(0);
  });

  it('gives up at a yield when the batch is no longer wanted', async () => {
    const records = Array.from({ length: 10 }, (_, i) => record(line(i, 'news.example.com', { 'X-MSISDN': '447700900123' })));
    let asked = 0;
    const judged = await judgeBatch(records, context(), { source: 't/0', yieldEvery: 4, stillWanted: () => ++asked < 2 });
    expect(judged).toBeNull();
    expect(asked).toBe(2);
    const whole = await judgeBatch(records, context(), { source: 't/0', yieldEvery: 4, stillWanted: () => true });
    expect(whole!.stored).toHaveLength(10);
  });

  it('judges the same records the same way every time (a replayed batch is stored once)', async () => {
    const records = [record(line(1, 'news.example.com', { 'X-MSISDN': '447700900123' })), record(line(2, 'lapsed.example', { 'X-MSISDN': '447700900123' }))];
    const a = (await judgeBatch(records, context(), { source: 't/0' }))!;
    const b = (await judgeBatch(records, context(), { source: 't/0' }))!;
    expect(b.stored.map((d) => d.id)).toEqual(a.stored.map((d) => d.id));
    expect(b.verdicts).toEqual(a.verdicts);
  });
});

// The judging thread runs compiled JS: this runs after `npm run build` (npm test does).
const JUDGE_WORKER = new URL('../../../dist/detector/judge-worker.js', import.meta.url);

/** Stored disclosures with the ciphertext (random IV) replaced by the number it decrypts to. */
const decrypted = (stored: readonly StoredDisclosure[]) =>
  stored.map((d) => ({ ...d, subscriberEnc: d.subscriberEnc === null ? null : decryptNumber(keys.encKey, d.subscriberEnc) }));

describe('judgeBatch in the judging thread', () => {
  function thread(): JudgeThread {
    if (!existsSync(fileURLToPath(JUDGE_WORKER))) throw new Error(`${fileURLToPath(JUDGE_WORKER)} is missing: run \`npm run build\` first (npm test does)`);
    return new JudgeThread(JUDGE_WORKER, keys);
  }

  const mixed = (): BatchRecord[] => [
    ...Array.from({ length: 300 }, (_, i) => record(line(i % 60, i % 4 === 0 ? 'www.ageverify.example' : `site${i % 9}.example.com`,
      i % 3 === 0 ? { 'X-MSISDN': `4477009${String(i % 50).padStart(5, '0')}` } : { Referer: `http://x.example/?m=07700900${String(i % 70).padStart(3, '0')}` },
      `4477009${String(i % 50).padStart(5, '0')}`))),
    { offset: String(offset++), key: null, value: null },
    { offset: String(offset++), key: Buffer.from('k'), value: Buffer.from('not avro at all') },
  ];

  it('gives exactly what judging in this thread gives, rejects included, and follows a new registry version', async () => {
    const t = thread();
    try {
      const records = mixed();
      const here = (await judgeBatch(records, context(), { source: 't/0' }))!;
      const there = (await judgeBatch(records, context({ thread: t }), { source: 't/0' }))!;
      expect(t.usable).toBe(true);
      expect(decrypted(there.stored)).toEqual(decrypted(here.stored));
      expect(decrypted(there.violations)).toEqual(decrypted(here.violations));
      expect(there.rejected).toEqual(here.rejected);
      expect(there.verdicts).toEqual(here.verdicts);
      expect(there.alerts.alerts).toEqual(here.alerts.alerts);
      expect(here.stored.length).toBeGreaterThan(100);
      expect(here.rejected.map((r) => r.offset)).toEqual(records.slice(-2).map((r) => r.offset));

      // Shared in shares of 16 records between the two threads: the same, in the batch's order.
      const shared = (await judgeBatch(records, context({ thread: t }), { source: 't/0', shareRecords: 16 }))!;
      expect(decrypted(shared.stored)).toEqual(decrypted(here.stored));
      expect(shared.rejected).toEqual(here.rejected);
      expect(shared.verdicts).toEqual(here.verdicts);

      // ageverify lapsed in the next version: the thread judges with it, not with the snapshot it had.
      const lapsedAll = activeRegistry(REGISTRY.replace('v1', 'v2').replace('identifiers: [x-msisdn]}', 'identifiers: [x-msisdn], valid_to: "2012-01-01T00:00:00Z"}'));
      const hereV2 = (await judgeBatch(records, context({ active: lapsedAll }), { source: 't/0' }))!;
      const thereV2 = (await judgeBatch(records, context({ active: lapsedAll, thread: t }), { source: 't/0' }))!;
      expect(decrypted(thereV2.stored)).toEqual(decrypted(hereV2.stored));
      expect(hereV2.verdicts).not.toEqual(here.verdicts);
    } finally {
      await t.close();
    }
  });

  it('judges in this thread, the same, once the thread is gone', async () => {
    const t = thread();
    // It leaves by itself (exit code 0, not terminated), so what it writes on exit (a --cpu-prof profile) is written.
    expect(await t.close()).toBe(0);
    expect(t.usable).toBe(false);
    expect(await t.close()).toBeNull();
    const records = mixed();
    const here = (await judgeBatch(records, context(), { source: 't/0' }))!;
    const fallback = (await judgeBatch(records, context({ thread: t }), { source: 't/0' }))!;
    expect(decrypted(fallback.stored)).toEqual(decrypted(here.stored));
    expect(fallback.rejected).toEqual(here.rejected);
  });
});
