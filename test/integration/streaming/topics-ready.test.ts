// Regression (CI flaky on a fresh clone): `registry publish` right after the topics were
// created failed with "This server is not the leader for that topic-partition". prepareTopics
// now returns only when every partition's leader answers, so a client that does not retry
// (kafkajs' fetchTopicOffsets gives up at once on that error) succeeds straight after it.
import { describe, expect, it } from 'vitest';
import { createKafkaClient, prepareTopics, topicNames } from '../../../services/kafka/index.js';
import { silentLogger } from '../../../services/observability/index.js';
import { requireKafka, uniqueName, withAdmin } from '../support/servers.js';

describe('topics just created', () => {
  it('answer offsets on every partition as soon as prepareTopics returns', async () => {
    const brokers = requireKafka();
    const kafka = createKafkaClient({ brokers, clientId: 'topics-ready-test', logger: silentLogger() });
    for (let round = 0; round < 5; round++) {
      const names = topicNames(`${uniqueName('ready')}.`);
      await prepareTopics(kafka, names);
      await withAdmin(brokers, async (admin) => {
        for (const topic of Object.values(names)) {
          const offsets = await admin.fetchTopicOffsets(topic); // no retries of ours here
          expect(offsets.length).toBe(topic === names.requests ? 4 : 1);
          expect(offsets.every((o) => o.high === '0')).toBe(true);
        }
        await admin.deleteTopics({ topics: Object.values(names) });
      });
    }
  });

  it('are left as they are when prepared again, and still answer', async () => {
    const brokers = requireKafka();
    const kafka = createKafkaClient({ brokers, clientId: 'topics-ready-test', logger: silentLogger() });
    const names = topicNames(`${uniqueName('ready_again')}.`);
    await Promise.all([prepareTopics(kafka, names), prepareTopics(kafka, names)]); // two commands at once
    await prepareTopics(kafka, names);
    await withAdmin(brokers, async (admin) => {
      const meta = await admin.fetchTopicMetadata({ topics: Object.values(names) });
      expect(meta.topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual(
        Object.values(names).map((t) => [t, t === names.requests ? 4 : 1]).sort(),
      );
      await admin.deleteTopics({ topics: Object.values(names) });
    });
  });
});
