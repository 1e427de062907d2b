// The kafkajs client every streaming component uses, and the translation of kafkajs errors
// into LeakscopeError('BROKER_FAILED') at this boundary. kafkajs' own logs are routed into
// pino (component source.kafka) at warn and above, so the process logs stay one JSON stream.
import kafkajs from 'kafkajs';
import type { Kafka as KafkaClient, KafkaConfig, LogEntry } from 'kafkajs';
import { LeakscopeError, isLeakscopeError } from '../core/errors.js';
import type { Logger } from '../observability/index.js';
import { useFastGzip } from './gzip.js';

const { Kafka, logLevel } = kafkajs;

export const KAFKA_BROKERS_ENV = 'KAFKA_BROKERS';

/** Splits and checks a broker list (`host:port,host:port`); USAGE error naming `where` otherwise. */
export function parseBrokers(value: string | undefined, where: string): string[] {
  if (value === undefined || value.trim() === '') {
    throw new LeakscopeError('USAGE', `no Kafka brokers: pass --brokers host:port[,host:port…] or set ${KAFKA_BROKERS_ENV}`);
  }
  const brokers = value.split(',').map((b) => b.trim()).filter((b) => b !== '');
  for (const b of brokers) {
    if (!/^[^\s:/]+:\d{1,5}$/.test(b)) throw new LeakscopeError('USAGE', `${where}: "${b}" is not host:port`);
  }
  return brokers;
}

export interface ClientOptions {
  brokers: readonly string[];
  clientId: string;
  logger: Logger;
}

/**
 * A kafkajs client with bounded retries (a broker that stays away fails the command instead of
 * hanging), kafkajs' log lines forwarded to pino, and gzip at a faster level (gzip.ts).
 */
export function createKafkaClient(options: ClientOptions): KafkaClient {
  useFastGzip();
  const log = options.logger;
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: 5000,
    requestTimeout: 30_000,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...rest } = entry.log;
      // kafkajs logs every retried coordinator-loading answer and rebalance as an ERROR; they
      // are retried, so they are warnings here. Real failures reach the caller as errors.
      const fields = { kafkajs: entry.namespace, ...rest };
      // Bounded retries are deliberate (a broker that stays away must fail `ship`), so kafkajs'
      // warning that they weaken the idempotent producer's guarantees is noted, not repeated.
      const expected = message.startsWith('Limiting retries for the idempotent producer');
      if (entry.level <= logLevel.WARN && !expected) log.warn(fields, `kafkajs: ${message}`);
      else log.debug(fields, `kafkajs: ${message}`);
    },
  };
  return new Kafka(config);
}

/**
 * A kafkajs (or any) failure as a BROKER_FAILED LeakscopeError saying what was being done.
 * `retryable` follows kafkajs' classification: its `retriable` flag, and, for "retries
 * exhausted", the flag of the error that was retried (a connection refused while a broker
 * restarts may pass later; kafkajs decides the same way whether to restart a consumer).
 */
export function brokerError(doing: string, err: unknown): LeakscopeError {
  if (isLeakscopeError(err)) return err;
  const e = err as { message?: string; retriable?: boolean; name?: string };
  const detail = e?.message ?? String(err);
  return new LeakscopeError('BROKER_FAILED', `Kafka: ${doing}: ${detail}`, { cause: err, retryable: isRetriable(err) });
}

function isRetriable(err: unknown): boolean {
  const e = err as { retriable?: unknown; name?: unknown; cause?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  if (e.name === 'KafkaJSNumberOfRetriesExceeded') return isRetriable(originalCause(e));
  return e.retriable === true;
}

function originalCause(err: { cause?: unknown }): unknown {
  let e: unknown = err;
  for (let depth = 0; depth < 16; depth++) {
    const cause = (e as { cause?: unknown }).cause;
    if (cause === undefined || cause === null) return e;
    e = cause;
  }
  return e;
}
