// Where the streaming commands find Kafka: brokers from --brokers or KAFKA_BROKERS, topic
// names under --topic-prefix or LEAKSCOPE_TOPIC_PREFIX (default none). Resolved once.
import { KAFKA_BROKERS_ENV, parseBrokers } from './client.js';
import { TOPIC_PREFIX_ENV, topicNames, type TopicNames } from './topics.js';

export interface StreamConnection {
  readonly brokers: readonly string[];
  readonly topics: TopicNames;
  readonly prefix: string;
}

export function streamConnection(
  flags: { brokers?: string | undefined; 'topic-prefix'?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
): StreamConnection {
  const brokers = parseBrokers(flags.brokers ?? env[KAFKA_BROKERS_ENV], flags.brokers !== undefined ? '--brokers' : KAFKA_BROKERS_ENV);
  const prefix = flags['topic-prefix'] ?? env[TOPIC_PREFIX_ENV] ?? '';
  return Object.freeze({ brokers, topics: topicNames(prefix), prefix });
}

/** Flag definitions shared by the streaming commands, for parseFlags. */
export const STREAM_FLAG_OPTIONS = {
  brokers: { type: 'string' },
  'topic-prefix': { type: 'string' },
} as const;

export const STREAM_FLAGS_USAGE = [
  `  --brokers LIST        Kafka brokers, host:port[,host:port…] (default $${KAFKA_BROKERS_ENV})`,
  `  --topic-prefix P      prefix of every topic name (default $${TOPIC_PREFIX_ENV}, else none)`,
].join('\n');
