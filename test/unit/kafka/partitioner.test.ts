import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyPartitioner, murmur2 } from '../../../services/kafka/partitioner.js';

const metadata = (count: number) => Array.from({ length: count }, (_, partitionId) => ({
  partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0, offlineReplicas: [],
}));

describe('keyPartitioner', () => {
  const ours = keyPartitioner();
  const kafkajs = Partitioners.DefaultPartitioner();

  it.each([
    ['447700900123'], ['gw-lon-01'], [''], ['a'], ['ab'], ['abc'], ['abcd'], ['bücher'], ['+447700900123'],
  ])('puts the key %j where kafkajs\' default partitioner puts it', (key) => {
    for (const count of [1, 3, 4, 12]) {
      const args = { topic: 't', partitionMetadata: metadata(count), message: { key, value: 'v' } };
      expect(ours(args)).toBe(kafkajs(args));
    }
  });

  it('agrees with kafkajs on any string or byte key', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.uint8Array().map((a) => Buffer.from(a))), fc.integer({ min: 1, max: 64 }), (key, count) => {
      const args = { topic: 't', partitionMetadata: metadata(count), message: { key, value: 'v' } };
      expect(ours(args)).toBe(kafkajs(args));
    }), { numRuns: 3000 });
  }, 60_000); // 3000 runs take ~2 s alone; the shared CI machine can be several times slower

  it('keeps an explicit partition', () => {
    expect(ours({ topic: 't', partitionMetadata: metadata(4), message: { key: 'x', value: 'v', partition: 2 } })).toBe(2);
  });

  it('spreads keyless messages over the partitions that have a leader', () => {
    const partitions = metadata(4).map((p) => (p.partitionId === 1 ? { ...p, leader: -1 } : p));
    const seen = new Set<number>();
    for (let i = 0; i < 30; i++) seen.add(ours({ topic: 't', partitionMetadata: partitions, message: { key: null, value: 'v' } }));
    expect([...seen].sort()).toEqual([0, 2, 3]);
  });

  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('hashes %j as Kafka\'s Java murmur2 does (%d, the values Kafka\'s own tests pin)', (text, hash) => {
    expect(murmur2(Buffer.from(text))).toBe(hash);
  });
});
