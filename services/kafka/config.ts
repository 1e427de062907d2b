// Where the streaming commands find Kafka: brokers from --brokers or KAFKA_BROKERS, topic
// names under --topic-prefix or LEAKSCOPE_TOPIC_PREFIX (default none). Resolved once, checked
// by its schema (every problem named), frozen.
import { Type } from '@sinclair/typebox';
import { LeakscopeError } from '../core/errors.js';
import { validateConfig } from '../config/index.js';
import { KAFKA_BROKERS_ENV } from './client.js';
import { TOPIC_PREFIX_ENV, topicNames, type TopicNames } from './topics.js';

export interface StreamConnection {
  readonly brokers: readonly string[];
  readonly topics: TopicNames;
  readonly prefix: string;
}

const StreamConnectionSchema = Type.Object({
  /** Bootstrap brokers, each host:port. */
  brokers: Type.Array(Type.String({ pattern: '^[^\\s:/,]+:\\d{1,5}$', expected: 'host:port' }), { minItems: 1 }),
  /** Prefix of every topic name: only what Kafka allows in a topic name. */
  prefix: Type.String({ pattern: '^[A-Za-z0-9._-]*$', expected: 'only letters, digits, \'.\', \'_\' and \'-\' (Kafka topic names)' }),
}, { additionalProperties: false });

export function streamConnection(
  flags: { brokers?: string | undefined; 'topic-prefix'?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
): StreamConnection {
  const brokersText = flags.brokers ?? env[KAFKA_BROKERS_ENV];
  if (brokersText === undefined || brokersText.trim() === '') {
    throw new LeakscopeError('USAGE', `no Kafka brokers: pass --brokers host:port[,host:port…] or set ${KAFKA_BROKERS_ENV}`);
  }
  const from = [flags.brokers !== undefined ? '--brokers' : KAFKA_BROKERS_ENV, flags['topic-prefix'] !== undefined ? '--topic-prefix' : TOPIC_PREFIX_ENV];
  const checked = validateConfig(StreamConnectionSchema, {
    brokers: brokersText.split(',').map((b) => b.trim()).filter((b) => b !== ''),
    prefix: flags['topic-prefix'] ?? env[TOPIC_PREFIX_ENV] ?? '',
  }, { where: `Kafka connection (${from.join(', ')})`, code: 'USAGE' });
  return Object.freeze({ brokers: checked.brokers, topics: topicNames(checked.prefix), prefix: checked.prefix });
}

/** Flag definitions shared by the streaming commands, for parseCommandFlags (or parseFlags). */
export const STREAM_FLAG_OPTIONS = {
  brokers: { type: 'string' },
  'topic-prefix': { type: 'string' },
} as const;

export const STREAM_FLAGS_USAGE = [
  `  --brokers LIST        Kafka brokers, host:port[,host:port…] (default $${KAFKA_BROKERS_ENV})`,
  `  --topic-prefix P      prefix of every topic name (default $${TOPIC_PREFIX_ENV}, else none)`,
].join('\n');
