// `leakscope registry publish FILE`: validates the registry file, then publishes it to the
// compacted partner-registry topic: one record per partner id (all its validity periods),
// tombstones for partner ids the topic holds but the file no longer has, and last the
// `__registry__` record with the registry-wide settings (a detector applies a version once it
// has read that record and all the partner records of the same version).
import type { Command } from '../command.js';
import { parseCommandFlags } from '../flags.js';
import { LeakscopeError } from '../../core/errors.js';
import { AvroCodec, toAvroPartnerRecords, type AvroPartnerRecord } from '../../avro/index.js';
import { readRegistryFile } from '../../files/index.js';
import {
  STREAM_FLAGS_USAGE, STREAM_FLAG_OPTIONS, TopicFollower, createKafkaClient, prepareTopics, streamConnection,
} from '../../kafka/index.js';
import { StreamProducer } from '../../kafka/index.js';
import { REGISTRY_SETTINGS_KEY } from '../../detector/registry-state/index.js';
import { componentLogger, createLogger } from '../../observability/index.js';

const PUBLISH_FLAGS = { ...STREAM_FLAG_OPTIONS, json: { type: 'boolean' } } as const;

export const registryPublish: Command = {
  name: 'registry publish',
  summary: 'validate a partner registry and publish it to the partner-registry topic',
  usage: [
    'Usage: leakscope registry publish FILE [--brokers LIST] [--topic-prefix P] [--json]',
    '',
    'Validates FILE (as `registry validate`), then publishes one record per partner id, tombstones',
    'for partners no longer in FILE, and the registry-wide settings under the key __registry__.',
    'Running detectors apply the new version without restart.',
    '',
    STREAM_FLAGS_USAGE,
    '  --json                print the summary as one JSON object',
  ].join('\n'),
  async run(argv, io) {
    const { values, positionals } = parseCommandFlags('registry publish', argv, PUBLISH_FLAGS);
    if (positionals.length !== 1) throw new LeakscopeError('USAGE', 'registry publish takes exactly one FILE');
    const registry = await readRegistryFile(positionals[0]!);
    const conn = streamConnection(values, io.env);
    const root = createLogger({ level: io.env.LEAKSCOPE_LOG_LEVEL ?? 'warn' });
    const log = componentLogger(root, 'registry-publish');
    const kafka = createKafkaClient({ brokers: conn.brokers, clientId: 'leakscope-registry-publish', logger: componentLogger(root, 'source.kafka') });
    const codec = new AvroCodec();

    await prepareTopics(kafka, conn.topics);

    // What the topic holds now: the keys whose last record is not a tombstone.
    const present = new Set<string>();
    const reader = new TopicFollower(kafka, {
      topic: conn.topics.registry,
      groupPrefix: 'leakscope-registry-publish',
      logger: log,
      onMessages: (messages) => {
        for (const m of messages) {
          const key = m.key?.toString();
          if (key === undefined) continue;
          if (m.value === null) present.delete(key);
          else present.add(key);
        }
      },
    });
    try {
      await reader.start();
      await reader.caughtUp;
    } finally {
      await reader.stop();
    }

    const records = toAvroPartnerRecords(registry);
    const settings: AvroPartnerRecord = {
      registry_version: registry.version,
      region: registry.region,
      identity_headers: [...registry.identityHeaders],
      partner_count: records.length,
      partner_id: REGISTRY_SETTINGS_KEY,
      periods: [],
    };
    const keep = new Set(records.map((r) => r.partner_id));
    const removed = [...present].filter((k) => k !== REGISTRY_SETTINGS_KEY && !keep.has(k)).sort();

    const producer = new StreamProducer(kafka, codec);
    await producer.connect();
    try {
      // One send to the registry's single partition keeps this order on the topic: partners,
      // tombstones, then the settings record that completes the version.
      await producer.send([{
        topic: conn.topics.registry,
        messages: [
          ...records.map((r) => producer.partnerMessage(r.partner_id, r)),
          ...removed.map((k) => producer.partnerMessage(k, null)),
          producer.partnerMessage(REGISTRY_SETTINGS_KEY, settings),
        ],
      }]);
    } finally {
      await producer.disconnect();
    }
    const summary = { topic: conn.topics.registry, version: registry.version, partners: records.length, entries: registry.partners.length, removed };
    log.info(summary, 'registry published');
    if (values.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      io.stdout.write(`published registry ${registry.version} to ${conn.topics.registry}: ${records.length} partners (${registry.partners.length} entries)` +
        `${removed.length > 0 ? `, removed ${removed.join(', ')}` : ''}\n`);
    }
    return 0;
  },
};
