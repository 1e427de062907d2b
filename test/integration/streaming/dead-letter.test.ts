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

  it('dead-letters a W3C or CSV status or byte count the Avro record cannot hold, with its reason, and ships the rest', async () => {
    const w3c = join(dir, 'counts.log');
    writeFileSync(w3c, [
      '#Fields: date time cs-method cs-uri sc-status sc-bytes',
      '2012-01-10 09:31:02 GET http://www.example.com/ 200 5120',
      '2012-01-10 09:31:03 GET http://www.example.com/ 2147483648 5120',
      '2012-01-10 09:31:04 GET http://www.example.com/ 200 9007199254740991',
    ].join('\n') + '\n');
    const csv = join(dir, 'counts.csv');
    writeFileSync(csv, 'ts,url,status,bytes\n2012-01-10T09:31:05Z,http://www.example.com/,2147483648,1\n2012-01-10T09:31:06Z,http://www.example.com/,200,1\n');
    const shippedW3c = JSON.parse(await cliOk(s, ['ship', '--json', w3c])) as { requests: number; rejects: number };
    const shippedCsv = JSON.parse(await cliOk(s, ['ship', '--json', '--format', 'csv', csv])) as { requests: number; rejects: number };
    expect([shippedW3c.requests, shippedW3c.rejects, shippedCsv.requests, shippedCsv.rejects]).toEqual([1, 2, 1, 1]);
    const dlq = (await readDlq(s, 6)).filter((r) => r.headers.source === w3c || r.headers.source === csv);
    expect(dlq.map((r) => [r.headers.source, r.headers.line, r.headers.reason]).sort()).toEqual([
      [csv, '2', 'status: 2147483648 is above 2147483647, the largest the Avro GatewayRequest holds'],
      [w3c, '3', 'sc-status: 2147483648 is above 2147483647, the largest the Avro GatewayRequest holds'],
      [w3c, '4', 'sc-bytes: 9007199254740991 is above 9007199254740990, the largest the Avro GatewayRequest holds'],
    ]);
  });
});
