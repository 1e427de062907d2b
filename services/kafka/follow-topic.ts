// Reads a whole topic from its beginning and keeps following it: for the partner registry,
// which every detector instance needs in full (so no shared consumer group: each reader has
// a group of its own, never commits, and deletes its group when it stops). `caughtUp` resolves
// once every partition has been read up to the high watermark it had when reading started.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Admin, Consumer, Kafka as KafkaClient } from 'kafkajs';
import type { Logger } from '../observability/index.js';
import { brokerError } from './client.js';
import { withBrokerRetries } from './retry.js';

export interface FollowedMessage {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

export interface TopicFollowerOptions {
  topic: string;
  /** Called with each fetched batch, in offset order per partition; awaited before the next. */
  onMessages: (messages: FollowedMessage[]) => void | Promise<void>;
  logger: Logger;
  /** Prefix of the throwaway group id. */
  groupPrefix?: string;
}

/** High watermark (next offset to be written) per partition of `topic`. */
export async function fetchHighWatermarks(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  // kafkajs gives up at once on "not the leader" here (it retries only unknown topics).
  const offsets = await withBrokerRetries(`reading the end offsets of ${topic}`, () => admin.fetchTopicOffsets(topic));
  return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
}

export class TopicFollower {
  private readonly groupId: string;
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private targets = new Map<number, bigint>();
  private resolveCaughtUp!: () => void;
  private rejectCaughtUp!: (err: Error) => void;
  /** Resolves when everything that was in the topic at start() has been handed to onMessages. */
  readonly caughtUp: Promise<void>;

  constructor(kafka: KafkaClient, private readonly options: TopicFollowerOptions) {
    this.groupId = `${options.groupPrefix ?? 'leakscope-reader'}-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
    // Short timeouts: the group has one member and nothing to rebalance with.
    this.consumer = kafka.consumer({ groupId: this.groupId, sessionTimeout: 10_000, rebalanceTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 500 });
    this.admin = kafka.admin();
    this.caughtUp = new Promise<void>((resolve, reject) => {
      this.resolveCaughtUp = resolve;
      this.rejectCaughtUp = reject;
    });
    this.caughtUp.catch(() => undefined);
  }

  async start(): Promise<void> {
    const { topic } = this.options;
    const doing = `starting to read ${topic}`;
    await withBrokerRetries(doing, () => this.admin.connect());
    // A partition with nothing left to read (empty, or every record deleted) is caught up
    // already. kafkajs gives up at once on "not the leader" here, so the retries are ours.
    const offsets = await withBrokerRetries(doing, () => this.admin.fetchTopicOffsets(topic));
    for (const o of offsets) {
      if (BigInt(o.high) > BigInt(o.low)) this.targets.set(o.partition, BigInt(o.high));
    }
    await withBrokerRetries(doing, () => this.consumer.connect());
    await withBrokerRetries(doing, () => this.consumer.subscribe({ topics: [topic], fromBeginning: true }));
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      this.rejectCaughtUp(brokerError(`reading ${topic}`, event.payload.error));
    });
    this.checkCaughtUp();
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        const messages: FollowedMessage[] = batch.messages.map((m) => ({ partition: batch.partition, offset: m.offset, key: m.key, value: m.value }));
        if (messages.length > 0) await this.options.onMessages(messages);
        const next = BigInt(batch.lastOffset()) + 1n;
        const target = this.targets.get(batch.partition);
        if (target !== undefined && next >= target) {
          this.targets.delete(batch.partition);
          this.checkCaughtUp();
        }
      },
    });
  }

  private checkCaughtUp(): void {
    if (this.targets.size === 0) this.resolveCaughtUp();
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect().catch(() => undefined);
    await this.admin.deleteGroups([this.groupId]).catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }
}
