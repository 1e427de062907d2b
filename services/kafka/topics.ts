// The four topics of the streaming contract, their names under a prefix, and creating the
// missing ones. partner-registry has ONE partition: a registry version is published as several
// records, and a reader must see them in the order they were written to know when it holds a
// whole version (ordering only holds within a partition).
import type { Admin, ITopicConfig, Kafka } from 'kafkajs';
import { LeakscopeError } from '../core/errors.js';
import { brokerError } from './client.js';

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
}

/** Creates whichever of the topics do not exist yet; existing ones are left as they are. */
export async function ensureTopics(admin: Admin, names: TopicNames, layout: TopicLayout = {}): Promise<void> {
  try {
    const existing = new Set(await admin.listTopics());
    const brokers = (await admin.describeCluster()).brokers.length;
    const replicationFactor = layout.replicationFactor ?? Math.min(3, Math.max(1, brokers));
    const partitions = layout.requestPartitions ?? 4;
    const specs: ITopicConfig[] = [
      { topic: names.requests, numPartitions: partitions, replicationFactor },
      {
        topic: names.registry,
        numPartitions: 1,
        replicationFactor,
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          // Tombstones stay a day so a reader that was away a few hours still sees removals.
          { name: 'delete.retention.ms', value: String(24 * 3600 * 1000) },
        ],
      },
      { topic: names.alerts, numPartitions: 1, replicationFactor },
      { topic: names.dlq, numPartitions: 1, replicationFactor },
    ].filter((s) => !existing.has(s.topic));
    if (specs.length === 0) return;
    await admin.createTopics({ topics: specs, waitForLeaders: true, timeout: 30_000 });
  } catch (err) {
    // Two processes creating the same topic at once: the loser sees TOPIC_ALREADY_EXISTS.
    if (/already exists/i.test((err as Error)?.message ?? '')) return;
    throw brokerError(`creating topics ${Object.values(names).join(', ')}`, err);
  }
}

/** ensureTopics with an admin client of its own, connected for the call and closed after it. */
export async function prepareTopics(kafka: Kafka, names: TopicNames, layout: TopicLayout = {}): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await ensureTopics(admin, names, layout);
  } catch (err) {
    throw err instanceof LeakscopeError ? err : brokerError('preparing topics', err);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
