// `ship --follow` tails a directory: lines appended, a partial last line, a rotated (renamed)
// file finished and a new one started, a truncated file read again from its start; stopped
// and restarted from its checkpoint, it neither loses nor resends a line.
//
// The reading consumer is at-least-once: under load its group may rebalance and hand it records
// again from the last committed offset. So records are counted by their place in the topic
// (partition and offset), not by deliveries: a line the shipper sent twice has two places and
// fails the test; a record the reader was given twice has one.
import { appendFileSync, mkdtempSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AvroCodec } from '../../../services/avro/index.js';
import { createKafkaClient, ensureTopics, topicNames } from '../../../services/kafka/index.js';
import { StreamProducer } from '../../../services/kafka/index.js';
import { followDirectory } from '../../../services/shipper/index.js';
import { createMetrics, silentLogger } from '../../../services/observability/index.js';
import { kafkaClient, requireKafka, uniqueName } from '../support/servers.js';
import { waitFor } from './harness.js';

const line = (id: string) => `${JSON.stringify({ ts: '2012-01-10T09:00:00Z', gateway_id: 'gw', request_id: id, url: 'http://www.example.com/' })}\n`;

describe('ship --follow', () => {
  const brokers = requireKafka();
  const topics = topicNames(`${uniqueName('follow')}.`);
  const dir = mkdtempSync(join(tmpdir(), 'lk-follow-'));
  const checkpointFile = join(dir, '.checkpoint.json');
  const log = silentLogger();
  const kafka = createKafkaClient({ brokers, clientId: 'follow-test', logger: log });
  const producer = new StreamProducer(kafka, new AvroCodec());
  const records = new Map<string, string>(); // "partition:offset" -> request_id
  const ids = () => [...records.values()];
  const codec = new AvroCodec();
  const consumer = kafkaClient(brokers).consumer({ groupId: uniqueName('follow_reader'), sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 6000, maxWaitTimeInMs: 100 });

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics);
    await admin.disconnect();
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.requests], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        records.set(`${partition}:${message.offset}`, codec.decodeAs('GatewayRequest', message.value!).request_id!);
      },
    });
  });
  afterAll(async () => {
    await consumer.disconnect();
    await producer.disconnect();
  });

  const follow = () => {
    const controller = new AbortController();
    const done = followDirectory({ dir, checkpointFile, producer, topics, format: 'ndjson', metrics: createMetrics({ processMetrics: false }), logger: log, pollIntervalMs: 50, signal: controller.signal });
    return { stop: async () => { controller.abort(); return done; } };
  };

  it('ships each complete line once across growth, rotation, truncation and a restart', async () => {
    writeFileSync(join(dir, 'access.log'), line('1') + line('2') + '{"ts":"2012-01-10T09:00:0'); // a partial last line
    let f = follow();
    await waitFor(() => `two lines (ids so far: ${ids().join(',')})`, () => records.size === 2);
    appendFileSync(join(dir, 'access.log'), `0Z","gateway_id":"gw","request_id":"3","url":"http://www.example.com/"}\n${line('4')}`);
    await waitFor(() => `the completed line and the next (ids so far: ${ids().join(',')})`, () => records.size === 4);

    // Rotation: the file is renamed and finished where it was left; a new one starts.
    renameSync(join(dir, 'access.log'), join(dir, 'access.log.1'));
    appendFileSync(join(dir, 'access.log.1'), line('5'));
    writeFileSync(join(dir, 'access.log'), line('6'));
    await waitFor(() => `rotated and new file (ids so far: ${ids().join(',')})`, () => records.size === 6);
    await f.stop();

    // While stopped: more lines. The restart resumes from the checkpoint.
    appendFileSync(join(dir, 'access.log'), line('7'));
    const checkpoint = JSON.parse(readFileSync(checkpointFile, 'utf8'));
    expect(Object.keys(checkpoint.files)).toHaveLength(2);
    f = follow();
    await waitFor(() => `the line written while stopped (ids so far: ${ids().join(',')})`, () => records.size === 7);

    // Truncation (copytruncate): read again from the start.
    truncateSync(join(dir, 'access.log'), 0);
    await new Promise((r) => setTimeout(r, 200));
    appendFileSync(join(dir, 'access.log'), line('8'));
    await waitFor(() => `the line after truncation (ids so far: ${ids().join(',')})`, () => records.size === 8);
    await new Promise((r) => setTimeout(r, 300));
    await f.stop();
    // Files are visited in name order, so 6 (access.log) may come before 5 (access.log.1).
    expect(ids().sort()).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
  });
});
