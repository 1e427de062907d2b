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

  it('refuses a prefix Kafka would refuse', () => {
    expect(() => topicNames('a/b')).toThrow(/only letters, digits/);
  });
});
