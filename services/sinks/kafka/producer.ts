// Producing to the streaming topics: gateway requests (Avro, keyed by MSISDN or gateway),
// rejects to the dead-letter topic (raw bytes, the error in headers), partner records and
// alerts. Every send waits for acks from all in-sync replicas and is gzip-compressed; a
// resolved send means the records are durable in Kafka.
import kafkajs from 'kafkajs';
import type { Kafka as KafkaClient, Message, Producer } from 'kafkajs';
import type { GatewayRequest, RejectRecord } from '../../core/types.js';
import { toAvroGatewayRequest, type AvroCodec, type AvroLeakAlert, type AvroPartnerRecord } from '../../avro/index.js';
import { brokerError } from '../../sources/kafka/index.js';

const { CompressionTypes } = kafkajs;

/** Header names of a dead-letter record. */
export const DLQ_HEADERS = Object.freeze({ reason: 'reason', source: 'source', line: 'line' });

export interface ProducerOptions {
  /** Idempotent producer (no duplicates from the producer's own retries); default true. */
  idempotent?: boolean;
  /** gzip the record batches; default true. */
  compress?: boolean;
}

export class StreamProducer {
  private readonly producer: Producer;
  private readonly compression: number;

  constructor(kafka: KafkaClient, private readonly codec: AvroCodec, options: ProducerOptions = {}) {
    const idempotent = options.idempotent ?? true;
    // An idempotent producer keeps order and de-duplicates its retries only with at most 5 requests in flight.
    this.producer = kafka.producer({ idempotent, maxInFlightRequests: idempotent ? 5 : 10, allowAutoTopicCreation: false });
    this.compression = options.compress === false ? CompressionTypes.None : CompressionTypes.GZIP;
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

  /** Sends messages to several topics in one request set; resolves when all are acknowledged. */
  async send(batches: ReadonlyArray<{ topic: string; messages: Message[] }>): Promise<void> {
    const topicMessages = batches.filter((b) => b.messages.length > 0);
    if (topicMessages.length === 0) return;
    try {
      await this.producer.sendBatch({ topicMessages, acks: -1, compression: this.compression });
    } catch (err) {
      throw brokerError(`producing to ${topicMessages.map((b) => b.topic).join(', ')}`, err);
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
