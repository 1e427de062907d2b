// Producing to the streaming topics: gateway requests (Avro, keyed by MSISDN or gateway),
// rejects to the dead-letter topic (raw bytes, the error in headers), partner records and
// alerts. Every send waits for acks from all in-sync replicas and is gzip-compressed; a
// resolved send means the records are durable in Kafka.
import kafkajs from 'kafkajs';
import type { Kafka as KafkaClient, Message, Producer } from 'kafkajs';
import type { GatewayRequest, RejectRecord } from '../core/types.js';
import { toAvroGatewayRequest, type AvroCodec, type AvroLeakAlert, type AvroPartnerRecord } from '../avro/index.js';
import { brokerError } from './index.js';
import { keyPartitioner } from './partitioner.js';

const { CompressionTypes } = kafkajs;

/** Header names of a dead-letter record. */
export const DLQ_HEADERS = Object.freeze({ reason: 'reason', source: 'source', line: 'line' });

export interface ProducerOptions {
  /** Idempotent producer (no duplicates from the producer's own retries); default true. */
  idempotent?: boolean;
  /** gzip the record batches; default true. */
  compress?: boolean;
  /**
   * Most messages handed to kafkajs in one produce call; a larger send is split into calls of
   * this size, all awaited. Default 2048. kafkajs groups a call's messages by partition in time
   * quadratic in the messages per partition (kafkajs#1576), so one call of 8192 spends more time
   * there than in encoding; the idempotent producer sends one request per broker at a time anyway.
   */
  maxMessagesPerRequest?: number;
}

export class StreamProducer {
  private readonly producer: Producer;
  private readonly compression: number;
  private readonly maxMessagesPerRequest: number;

  constructor(kafka: KafkaClient, private readonly codec: AvroCodec, options: ProducerOptions = {}) {
    const idempotent = options.idempotent ?? true;
    // An idempotent producer keeps order and de-duplicates its retries only with at most 5 requests in flight.
    this.producer = kafka.producer({ idempotent, maxInFlightRequests: idempotent ? 5 : 10, allowAutoTopicCreation: false, createPartitioner: keyPartitioner });
    this.compression = options.compress === false ? CompressionTypes.None : CompressionTypes.GZIP;
    this.maxMessagesPerRequest = options.maxMessagesPerRequest ?? 2048;
  }

  async connect(): Promise<void> {
    try {
      await this.producer.connect();
    } catch (err) {
      throw brokerError('connecting the producer', err);
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
  }

  /**
   * Sends messages to several topics; resolves when all are acknowledged. Up to
   * maxMessagesPerRequest messages go in one produce call, the calls one after another: an
   * idempotent producer's sequence numbers and a key's order are only safe that way. A failure
   * rejects the send (the caller resends all of it: duplicates, never loss).
   */
  async send(batches: ReadonlyArray<{ topic: string; messages: Message[] }>): Promise<void> {
    for (const topicMessages of chunkTopicMessages(batches, this.maxMessagesPerRequest)) {
      try {
        await this.producer.sendBatch({ topicMessages, acks: -1, compression: this.compression });
      } catch (err) {
        throw brokerError(`producing to ${topicMessages.map((b) => b.topic).join(', ')}`, err);
      }
    }
  }

  /** Avro single-object messages of requests, keyed by the session's MSISDN, else the gateway id. */
  requestMessages(requests: readonly GatewayRequest[]): Message[] {
    const out: Message[] = new Array(requests.length);
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i] as GatewayRequest;
      out[i] = { key: r.msisdn ?? r.gatewayId ?? null, value: this.codec.encode('GatewayRequest', toAvroGatewayRequest(r)) };
    }
    return out;
  }

  partnerMessage(key: string, record: AvroPartnerRecord | null): Message {
    return { key, value: record === null ? null : this.codec.encode('PartnerRecord', record) };
  }

  alertMessage(alert: AvroLeakAlert): Message {
    return { key: alert.site ?? alert.id, value: this.codec.encode('LeakAlert', alert) };
  }
}

/** Topic batches cut into produce calls of at most `max` messages, in order; empty batches dropped. */
export function chunkTopicMessages(batches: ReadonlyArray<{ topic: string; messages: Message[] }>, max: number): Array<Array<{ topic: string; messages: Message[] }>> {
  const calls: Array<Array<{ topic: string; messages: Message[] }>> = [];
  let current: Array<{ topic: string; messages: Message[] }> = [];
  let room = max;
  for (const { topic, messages } of batches) {
    for (let i = 0; i < messages.length;) {
      const take = Math.min(room, messages.length - i);
      current.push({ topic, messages: i === 0 && take === messages.length ? messages : messages.slice(i, i + take) });
      i += take;
      room -= take;
      if (room === 0) {
        calls.push(current);
        current = [];
        room = max;
      }
    }
  }
  if (current.length > 0) calls.push(current);
  return calls;
}

/** A log line that could not be read, as a dead-letter message: its raw text and why. */
export function rejectMessage(reject: RejectRecord): Message {
  return {
    key: null,
    value: Buffer.from(reject.raw, 'utf8'),
    headers: { [DLQ_HEADERS.reason]: reject.reason, [DLQ_HEADERS.source]: reject.source, [DLQ_HEADERS.line]: String(reject.line) },
  };
}

/** A Kafka message that could not be decoded, as a dead-letter message: the raw bytes and why. */
export function poisonMessage(raw: Buffer | null, key: Buffer | null, reason: string, source: string): Message {
  return {
    key,
    value: raw,
    headers: { [DLQ_HEADERS.reason]: reason, [DLQ_HEADERS.source]: source, [DLQ_HEADERS.line]: '0' },
  };
}
