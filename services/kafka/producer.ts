// Producing to the streaming topics: gateway requests (Avro, keyed by MSISDN or gateway),
// rejects to the dead-letter topic (raw bytes, the error in headers), partner records and
// alerts. Every send waits for acks from all in-sync replicas and is gzip-compressed; a
// resolved send means the records are durable in Kafka.
import kafkajs from 'kafkajs';
import type { Kafka as KafkaClient, Message, Producer, ProducerConfig } from 'kafkajs';
import type { GatewayRequest, RejectRecord } from '../core/types.js';
import type { AvroCodec, AvroLeakAlert, AvroPartnerRecord } from '../avro/index.js';
import { LeakscopeError } from '../core/errors.js';
import { brokerError } from './client.js';
import { BROKER_RETRY, withBrokerRetries, type RetryPolicy } from './retry.js';
import { keyPartitioner } from './partitioner.js';
import { encodeRequests, encodedMessages } from './encoded.js';

export { EncodedRequestsBuilder, encodeRequests, encodedMessages, type EncodedRequests } from './encoded.js';

const { CompressionTypes } = kafkajs;

/** Default of ProducerOptions.maxMessagesPerRequest. */
export const MAX_MESSAGES_PER_REQUEST = 2048;
/** Acknowledged by every in-sync replica. */
export const ACKS_ALL = -1;

/** The kafkajs producer settings of every StreamProducer (the bench's bare producer uses them too). */
export function kafkajsProducerConfig(idempotent: boolean): ProducerConfig {
  // An idempotent producer keeps order and de-duplicates its retries only with at most 5 requests in flight.
  return { idempotent, maxInFlightRequests: idempotent ? 5 : 10, allowAutoTopicCreation: false, createPartitioner: keyPartitioner };
}

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
  /** Bound on retrying one failed produce call; default BROKER_RETRY. */
  retry?: RetryPolicy;
}

export interface SendOptions {
  /** Aborting ends the retries: the send rejects with the last error. */
  signal?: AbortSignal;
}

/**
 * A kafkajs producer that recovers: a produce call that fails is retried with a bound
 * (retry.ts), and before the retry the kafkajs producer is replaced by a fresh one. After a
 * broker restart or a lost answer, an idempotent producer's sequence numbers may no longer be
 * the broker's; a new producer (new producer id) always is. A resend may duplicate records of
 * the failed call, never lose them; every consumer of these topics keeps records once (ids).
 */
export class StreamProducer {
  private producer: Producer;
  private generation = 0;
  /** Generation whose producer failed a call and is to be replaced before the next try. */
  private failedGeneration = -1;
  private renewing: Promise<void> | null = null;
  private closed = false;
  private readonly compression: number;
  private readonly maxMessagesPerRequest: number;
  private readonly retry: RetryPolicy;

  constructor(private readonly kafka: KafkaClient, private readonly codec: AvroCodec, private readonly options: ProducerOptions = {}) {
    this.producer = this.create();
    this.compression = options.compress === false ? CompressionTypes.None : CompressionTypes.GZIP;
    this.maxMessagesPerRequest = options.maxMessagesPerRequest ?? MAX_MESSAGES_PER_REQUEST;
    this.retry = options.retry ?? BROKER_RETRY;
  }

  private create(): Producer {
    return this.kafka.producer(kafkajsProducerConfig(this.options.idempotent ?? true));
  }

  async connect(options: SendOptions = {}): Promise<void> {
    await withBrokerRetries('connecting the producer', () => this.producer.connect(), { policy: this.retry, ...options });
  }

  /** Closes the producer; a send after this fails (not retryable). */
  async disconnect(): Promise<void> {
    this.closed = true;
    await this.producer.disconnect().catch(() => undefined);
  }

  /** Times the kafkajs producer was replaced after a failure (for tests and metrics). */
  get renewals(): number {
    return this.generation;
  }

  /**
   * Sends messages to several topics; resolves when all are acknowledged. Up to
   * maxMessagesPerRequest messages go in one produce call, the calls one after another: an
   * idempotent producer's sequence numbers and a key's order are only safe that way. A call
   * that fails retryably is tried again (on a renewed producer) within the retry policy;
   * when that is spent, the send rejects (the caller resends all of it: duplicates, never loss).
   */
  async send(batches: ReadonlyArray<{ topic: string; messages: Message[] }>, options: SendOptions = {}): Promise<void> {
    for (const topicMessages of chunkTopicMessages(batches, this.maxMessagesPerRequest)) {
      const doing = `producing to ${topicMessages.map((b) => b.topic).join(', ')}`;
      await withBrokerRetries(doing, () => this.sendCall(doing, topicMessages), {
        policy: this.retry,
        beforeRetry: () => this.renewIfFailed(),
        ...options,
      });
    }
  }

  private async sendCall(doing: string, topicMessages: Array<{ topic: string; messages: Message[] }>): Promise<void> {
    if (this.closed) throw new LeakscopeError('BROKER_FAILED', `Kafka: ${doing}: the producer is closed`);
    if (this.renewing) await this.renewing;
    const generation = this.generation;
    try {
      await this.producer.sendBatch({ topicMessages, acks: ACKS_ALL, compression: this.compression });
    } catch (err) {
      const error = brokerError(doing, err);
      if (this.closed) throw new LeakscopeError('BROKER_FAILED', `Kafka: ${doing}: the producer is closed`, { cause: err });
      // A call on a producer that another call's failure already replaced: try again on the new one.
      if (generation !== this.generation) throw new LeakscopeError('BROKER_FAILED', error.message, { cause: err, retryable: true });
      this.failedGeneration = generation;
      throw error;
    }
  }

  /** Replaces the kafkajs producer if the current one failed a call (once, whoever asks first). */
  private renewIfFailed(): Promise<void> {
    if (this.renewing) return this.renewing;
    if (this.failedGeneration !== this.generation || this.closed) return Promise.resolve();
    const old = this.producer;
    this.producer = this.create();
    this.generation++;
    this.renewing = (async () => {
      try {
        // Calls still in flight on the old producer fail and are retried on the new one.
        void old.disconnect().catch(() => undefined);
        await this.producer.connect();
      } finally {
        this.renewing = null;
      }
    })();
    return this.renewing;
  }

  /** Avro single-object messages of requests, keyed by the session's MSISDN, else the gateway id. */
  requestMessages(requests: readonly GatewayRequest[]): Message[] {
    const { keys, bytes, ends } = encodeRequests(this.codec, requests);
    return encodedMessages(keys, bytes, ends);
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
