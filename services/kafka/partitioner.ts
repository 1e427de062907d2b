// The producer's partitioner: the partition of kafkajs' DefaultPartitioner (Java's murmur2 of
// the key bytes, so a key lands where every other Kafka client puts it), computed with 32-bit
// integer arithmetic instead of kafkajs' Long objects and without the per-message arrays its
// partitioner allocates: about a tenth of the shipper's CPU went there. Keyless messages go
// round robin over the partitions that have a leader, as in kafkajs.
import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) of `data`, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const length4 = length & ~3;
  for (let i = 0; i < length4; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[length4 + 2]! << 16;
  if (rest >= 2) h ^= data[length4 + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[length4]!, M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

// Keys are MSISDNs and gateway ids: ASCII, whose UTF-8 bytes are the char codes. Hashed from a
// reused buffer; anything else is encoded properly.
let scratch = new Uint8Array(256);

function keyBytes(key: Buffer | string): Uint8Array {
  if (typeof key !== 'string') return key;
  const n = key.length;
  if (n > scratch.length) scratch = new Uint8Array(n * 2);
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) return Buffer.from(key, 'utf8');
    scratch[i] = c;
  }
  return scratch.subarray(0, n);
}

/** kafkajs `createPartitioner`: an explicit partition, else murmur2 of the key, else round robin. */
export const keyPartitioner: ICustomPartitioner = () => {
  let counter = Math.floor(Math.random() * 0x7fffffff);
  return ({ partitionMetadata, message }: PartitionerArgs): number => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const count = partitionMetadata.length;
    if (message.key !== null && message.key !== undefined) return (murmur2(keyBytes(message.key)) & 0x7fffffff) % count;
    counter = (counter + 1) & 0x7fffffff;
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    return available.length > 0 ? available[counter % available.length]!.partitionId : counter % count;
  };
};
