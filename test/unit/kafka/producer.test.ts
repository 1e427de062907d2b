// StreamProducer's recovery logic, over a stand-in for the kafkajs client (the broker itself is
// exercised in test/integration/streaming/faults.test.ts): a failed produce call is retried on
// a fresh kafkajs producer, within the bound, and a closed producer is not retried.
import kafkajs from 'kafkajs';
import type { Kafka as KafkaClient } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { AvroCodec } from '../../../services/avro/index.js';
import { StreamProducer } from '../../../services/kafka/index.js';

const { KafkaJSConnectionError, KafkaJSNonRetriableError } = kafkajs;

/** A kafkajs client whose producers fail their first `failures` sendBatch calls in all. */
function client(failures: number, error: () => Error = () => new KafkaJSConnectionError('Connection error: ECONNREFUSED')) {
  const made: Array<{ sent: number; connected: number; disconnected: number }> = [];
  let left = failures;
  const kafka = {
    producer: () => {
      const p = { sent: 0, connected: 0, disconnected: 0 };
      made.push(p);
      return {
        connect: async () => { p.connected++; },
        disconnect: async () => { p.disconnected++; },
        sendBatch: async () => {
          if (left > 0) { left--; throw error(); }
          p.sent++;
          return [];
        },
      };
    },
  } as unknown as KafkaClient;
  return { kafka, made };
}

const FAST = { attempts: 4, initialDelayMs: 1, maxDelayMs: 2 };
const batch = [{ topic: 't', messages: [{ key: 'k', value: Buffer.from('v') }] }];

describe('StreamProducer', () => {
  it('retries a failed call on a renewed producer, and the old one is let go', async () => {
    const { kafka, made } = client(2);
    const producer = new StreamProducer(kafka, new AvroCodec(), { retry: FAST });
    await producer.connect();
    await producer.send(batch);
    expect(made).toHaveLength(3); // the first, and one per failure
    expect(made.map((p) => p.sent)).toEqual([0, 0, 1]);
    expect(made.slice(1).every((p) => p.connected === 1)).toBe(true);
    expect(made.slice(0, 2).every((p) => p.disconnected === 1)).toBe(true);
    expect(producer.renewals).toBe(2);
  });

  it('gives up after the bound with a retryable error the caller can act on', async () => {
    const { kafka } = client(100);
    const producer = new StreamProducer(kafka, new AvroCodec(), { retry: FAST });
    await producer.connect();
    await expect(producer.send(batch)).rejects.toMatchObject({ code: 'BROKER_FAILED', retryable: true });
  });

  it('does not retry what kafkajs calls not retriable', async () => {
    const { kafka, made } = client(1, () => new KafkaJSNonRetriableError('Invalid topic'));
    const producer = new StreamProducer(kafka, new AvroCodec(), { retry: FAST });
    await producer.connect();
    await expect(producer.send(batch)).rejects.toMatchObject({ code: 'BROKER_FAILED', retryable: false });
    expect(made).toHaveLength(1);
  });

  it('refuses to send once closed, without retrying', async () => {
    const { kafka, made } = client(0);
    const producer = new StreamProducer(kafka, new AvroCodec(), { retry: FAST });
    await producer.connect();
    await producer.disconnect();
    await expect(producer.send(batch)).rejects.toMatchObject({ code: 'BROKER_FAILED', retryable: false, message: expect.stringMatching(/closed/) });
    expect(made).toHaveLength(1);
  });

  it('stops retrying when its signal aborts', async () => {
    const { kafka } = client(100);
    const producer = new StreamProducer(kafka, new AvroCodec(), { retry: { attempts: 50, initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    await producer.connect();
    const controller = new AbortController();
    const sending = producer.send(batch, { signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    await expect(sending).rejects.toMatchObject({ code: 'BROKER_FAILED' });
  });
});
