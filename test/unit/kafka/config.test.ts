import { describe, expect, it } from 'vitest';
import { parseBrokers, streamConnection, topicNames } from '../../../services/kafka/index.js';

describe('stream connection', () => {
  it('names the four topics under a prefix', () => {
    expect(topicNames('acme.')).toEqual({
      requests: 'acme.gateway-requests', registry: 'acme.partner-registry', alerts: 'acme.leak-alerts', dlq: 'acme.gateway-requests-dlq',
    });
  });

  it('takes flags before the environment', () => {
    const c = streamConnection({ brokers: 'a:1,b:2' }, { KAFKA_BROKERS: 'x:9', LEAKSCOPE_TOPIC_PREFIX: 'p-' });
    expect(c.brokers).toEqual(['a:1', 'b:2']);
    expect(c.topics.requests).toBe('p-gateway-requests');
  });

  it.each([
    [undefined, /no Kafka brokers/],
    ['localhost', /"localhost" is not host:port/],
  ])('refuses brokers %s', (value, message) => {
    expect(() => parseBrokers(value, '--brokers')).toThrow(message);
  });

  it('names every problem of the connection at once: each broker that is not host:port, and the prefix', () => {
    try {
      streamConnection({ brokers: 'a:1,localhost,b:x', 'topic-prefix': 'a/b' }, {});
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'USAGE' });
      expect((error as { problems: string[] }).problems).toEqual([
        'brokers[1] is "localhost": expected host:port',
        'brokers[2] is "b:x": expected host:port',
        'prefix is "a/b": expected only letters, digits, \'.\', \'_\' and \'-\' (Kafka topic names)',
      ]);
      expect((error as Error).message).toMatch(/^Kafka connection \(--brokers, --topic-prefix\): 3 problems/);
    }
    expect(() => streamConnection({}, {})).toThrow(/no Kafka brokers/);
  });

  it('refuses a prefix Kafka would refuse', () => {
    expect(() => topicNames('a/b')).toThrow(/only letters, digits/);
  });
});
