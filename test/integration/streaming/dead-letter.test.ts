// Messages the detector cannot read go to the dead-letter topic with their raw bytes and the
// reason in record headers, and processing goes on; so do the lines `ship` cannot read.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaClient } from '../support/servers.js';
import { INCIDENT, cliOk, dropDatabase, streamEnv, waitFor, type StreamEnv } from './harness.js';

interface DlqRecord {
  value: string;
  headers: Record<string, string>;
}

async function readDlq(s: StreamEnv, expected: number): Promise<DlqRecord[]> {
  const consumer = kafkaClient(s.brokers).consumer({ groupId: `dlq-reader-${Date.now()}`, sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 6000, maxWaitTimeInMs: 200 });
  // Keyed by place in the topic: a rebalance may deliver a record again, and it is still one record.
  const out = new Map<string, DlqRecord>();
  await consumer.connect();
  await consumer.subscribe({ topics: [`${s.prefix}gateway-requests-dlq`], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      out.set(`${partition}:${message.offset}`, { value: message.value?.toString('latin1') ?? '', headers });
    },
  });
  try {
    await waitFor(`${expected} dead-letter records`, () => out.size >= expected);
  } finally {
    await consumer.disconnect();
  }
  return [...out.values()];
}

describe('the dead-letter topic', () => {
  let s: StreamEnv;
  const dir = mkdtempSync(join(tmpdir(), 'lk-dlq-'));
  beforeAll(async () => {
    s = await streamEnv('dlq');
  });
  afterAll(async () => {
    if (s) await dropDatabase(s);
  });

  it('holds a poison message with its reason and source, and the rejected log lines with theirs', async () => {
    await cliOk(s, ['registry', 'publish', join(INCIDENT, 'registry.yaml')]);
    const good = JSON.stringify({ ts: '2012-01-10T09:00:00Z', gateway_id: 'gw', request_id: '1', msisdn: '447700900123', url: 'http://www.example.com/', headers: { 'X-MSISDN': '447700900123' } });
    writeFileSync(join(dir, 'log.ndjson'), `${good}\n{"ts": broken\n`);
    await cliOk(s, ['ship', join(dir, 'log.ndjson')]);

    const producer = kafkaClient(s.brokers).producer();
    await producer.connect();
    const poison = [
      Buffer.from('plain text, not Avro'),
      Buffer.from([0xc3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0]), // the marker, an unknown fingerprint
    ];
    await producer.send({ topic: `${s.prefix}gateway-requests`, acks: -1, messages: poison.map((value) => ({ key: 'k', value, partition: 0 })) });
    await producer.disconnect();

    const result = JSON.parse(await cliOk(s, ['detect', '--once', '--json', '--group', 'dlq']));
    expect(result.poison).toBe(2);
    expect(result.disclosures).toBe(1);

    const dlq = await readDlq(s, 3);
    const reject = dlq.find((r) => r.headers.line === '2');
    expect(reject?.value).toBe('{"ts": broken');
    expect(reject?.headers.source).toBe(join(dir, 'log.ndjson'));
    expect(reject?.headers.reason).toMatch(/JSON/);
    const notAvro = dlq.find((r) => r.value === 'plain text, not Avro');
    expect(notAvro?.headers.reason).toMatch(/not an Avro single-object message/);
    expect(notAvro?.headers.source).toMatch(new RegExp(`^${s.prefix.replace('.', '\\.')}gateway-requests/0@\\d+$`));
    const unknown = dlq.find((r) => r.headers.reason?.includes('unknown Avro schema fingerprint'));
    expect(unknown?.headers.reason).toContain('0102030405060708');
  });
});
