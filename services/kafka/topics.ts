// The four topics of the streaming contract, their names under a prefix, and creating the
// missing ones. partner-registry has ONE partition: a registry version is published as several
// records, and a reader must see them in the order they were written to know when it holds a
// whole version (ordering only holds within a partition).
import type { Admin, ITopicConfig, Kafka } from 'kafkajs';
import { LeakscopeError } from '../core/errors.js';
import { brokerError } from './client.js';
import { notReady, sleep, withBrokerRetries } from './retry.js';

export const TOPIC_PREFIX_ENV = 'LEAKSCOPE_TOPIC_PREFIX';

export interface TopicNames {
  readonly requests: string;
  readonly registry: string;
  readonly alerts: string;
  readonly dlq: string;
}

/** Topic names under `prefix` (used as is: `acme.` gives `acme.gateway-requests`). */
export function topicNames(prefix = ''): TopicNames {
  if (!/^[A-Za-z0-9._-]*$/.test(prefix)) {
    throw new LeakscopeError('USAGE', `topic prefix ${JSON.stringify(prefix)}: only letters, digits, '.', '_' and '-' are allowed in Kafka topic names`);
  }
  return Object.freeze({
    requests: `${prefix}gateway-requests`,
    registry: `${prefix}partner-registry`,
    alerts: `${prefix}leak-alerts`,
    dlq: `${prefix}gateway-requests-dlq`,
  });
}

export interface TopicLayout {
  /** Partitions of gateway-requests (and its DLQ, alerts). Default 4: room for 4 detector instances. */
  requestPartitions?: number;
  /** Replication factor; default 1 on a one-broker cluster, else min(3, brokers). */
  replicationFactor?: number;
  /**
   * min.insync.replicas of every topic; default 2 when the replication factor is 3 or more, else
   * 1. With the producers' acks from all in-sync replicas, an acknowledged record is then on two
   * brokers, and one broker may be down without stopping writes.
   */
  minInsyncReplicas?: number;
}

/**
 * Creates whichever of the topics do not exist yet (existing ones are left as they are), then
 * waits until every partition of all four has a leader that answers (waitForTopicsReady).
 * Broker calls that fail retryably are retried with a bound (retry.ts).
 */
export async function ensureTopics(admin: Admin, names: TopicNames, layout: TopicLayout = {}, options: ReadyOptions = {}): Promise<void> {
  const all = Object.values(names);
  const specs = await withBrokerRetries(`listing topics ${all.join(', ')}`, async () => {
    const existing = new Set(await admin.listTopics());
    const brokers = (await admin.describeCluster()).brokers.length;
    const replicationFactor = layout.replicationFactor ?? Math.min(3, Math.max(1, brokers));
    const partitions = layout.requestPartitions ?? 4;
    const insync = [{ name: 'min.insync.replicas', value: String(layout.minInsyncReplicas ?? (replicationFactor >= 3 ? 2 : 1)) }];
    const wanted: ITopicConfig[] = [
      { topic: names.requests, numPartitions: partitions, replicationFactor, configEntries: insync },
      {
        topic: names.registry,
        numPartitions: 1,
        replicationFactor,
        configEntries: [
          ...insync,
          { name: 'cleanup.policy', value: 'compact' },
          // Tombstones stay a day so a reader that was away a few hours still sees removals.
          { name: 'delete.retention.ms', value: String(24 * 3600 * 1000) },
        ],
      },
      { topic: names.alerts, numPartitions: 1, replicationFactor, configEntries: insync },
      { topic: names.dlq, numPartitions: 1, replicationFactor, configEntries: insync },
    ];
    return wanted.filter((spec) => !existing.has(spec.topic));
  }, options);
  if (specs.length > 0) {
    try {
      // kafkajs' waitForLeaders asks one broker's metadata, which can name a leader before that
      // leader serves the partition: waitForTopicsReady below checks what a client needs.
      await admin.createTopics({ topics: specs, waitForLeaders: false, timeout: 30_000 });
    } catch (err) {
      // Two processes creating the same topic at once: the loser sees TOPIC_ALREADY_EXISTS.
      if ((err as { type?: string })?.type !== 'TOPIC_ALREADY_EXISTS' && !hasTopicExists(err)) {
        throw brokerError(`creating topics ${specs.map((t) => t.topic).join(', ')}`, err);
      }
    }
  }
  await waitForTopicsReady(admin, all, options);
}

/** kafkajs reports a batch creation's per-topic errors in `errors` (KafkaJSAggregateError). */
function hasTopicExists(err: unknown): boolean {
  const errors = (err as { errors?: unknown[] })?.errors;
  return Array.isArray(errors) && errors.length > 0 && errors.every((e) => (e as { type?: string })?.type === 'TOPIC_ALREADY_EXISTS');
}

export interface ReadyOptions {
  /** How long the partitions may take to get an answering leader, ms. Default 30 000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Resolves when every partition of `topics` has a leader (metadata) and that leader answers a
 * ListOffsets request (what a producer, a consumer or fetchTopicOffsets needs). Right after a
 * topic is created, or while a broker restarts, either can fail with a retryable error
 * ("not the leader for that topic-partition", "leader not available"): those are waited out
 * up to `timeoutMs`; a non-retryable error fails at once.
 */
export async function waitForTopicsReady(admin: Admin, topics: readonly string[], options: ReadyOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let waitMs = 50;
  for (;;) {
    let problem: string;
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [...topics] });
      const leaderless = meta.topics.flatMap((t) => (t.partitions.length === 0 ? [`${t.name} (no partitions)`] : t.partitions.filter((p) => p.leader < 0).map((p) => `${t.name}/${p.partitionId}`)));
      if (leaderless.length === 0) {
        for (const topic of topics) await admin.fetchTopicOffsets(topic);
        return;
      }
      problem = `no leader yet for ${leaderless.slice(0, 8).join(', ')}`;
    } catch (err) {
      const error = brokerError(`waiting for the leaders of ${topics.join(', ')}`, err);
      if (!error.retryable) throw error;
      problem = error.message;
    }
    if (Date.now() + waitMs > deadline) throw notReady(`topics ${topics.join(', ')}`, `partitions not ready after ${timeoutMs} ms: ${problem}`);
    if (!(await sleep(waitMs, options.signal))) throw notReady(`topics ${topics.join(', ')}`, `stopped while waiting: ${problem}`);
    waitMs = Math.min(waitMs * 2, 1000);
  }
}

/** ensureTopics with an admin client of its own, connected for the call and closed after it. */
export async function prepareTopics(kafka: Kafka, names: TopicNames, layout: TopicLayout = {}): Promise<void> {
  const admin = kafka.admin();
  try {
    await withBrokerRetries('connecting the admin client', () => admin.connect());
    await ensureTopics(admin, names, layout);
  } catch (err) {
    throw err instanceof LeakscopeError ? err : brokerError('preparing topics', err);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
