// `leakscope notify`: leak-alerts (its own consumer group) → every route of notify.yaml. A
// batch's offsets are committed only when every alert in it is delivered or dead-lettered on
// every route that takes its kind; a crash before that delivers the batch again (the same ids).
// Routes deliver independently: a route that is down holds the commit for at most its retry
// budget, never the other routes' deliveries. Unreadable messages go to the DLQ too.
import type { Consumer, EachBatchPayload, Kafka as KafkaClient } from 'kafkajs';
import { AvroCodec, type AvroLeakAlert } from '../avro/index.js';
import { isLeakscopeError } from '../core/errors.js';
import { StreamProducer, brokerError, createKafkaClient, ensureTopics, type TopicNames } from '../kafka/index.js';
import { componentLogger, type Logger } from '../observability/index.js';
import type { NotifyConfig } from './config.js';
import { postWithFetch, type Post } from './http.js';
import { createNotifyMetrics, type NotifyMetrics } from './metrics.js';
import { RouteWorker } from './route.js';

/** Header names of a record on leak-alerts-dlq (the value is the alert's Avro message as read). */
export const ALERT_DLQ_HEADERS = Object.freeze({ reason: 'reason', route: 'route', attempts: 'attempts', alertId: 'alert-id', source: 'source' });

/** leak-alerts-dlq, under the same prefix as leak-alerts. */
export function alertsDlqTopic(topics: TopicNames): string {
  return `${topics.alerts}-dlq`;
}

export interface NotifierOptions {
  brokers: readonly string[];
  topics: TopicNames;
  config: Readonly<NotifyConfig>;
  logger: Logger;
  /** Consumer group; default `leakscope-notify`. */
  groupId?: string;
  /** kafkajs client id; default `leakscope-notify`. */
  clientId?: string;
  /** HTTP attempt; default Node's fetch. */
  post?: Post;
  metrics?: NotifyMetrics;
  /** Group session timeout, ms; default 30 000 (tests use less). */
  sessionTimeoutMs?: number;
  /** Called with the ids of the alerts of each batch read and the time it was read (bench/alerts.ts splits the latency with it). */
  onAlertsRead?: (alertIds: string[], readAt: number) => void;
}

/** Alerts handed to the routes and not yet settled, past which notify reads no more until some settle. */
const MAX_UNSETTLED = 10_000;

export type NotifierEnd = { kind: 'stopped' } | { kind: 'failed'; error: Error };

export interface NotifierTotals {
  alerts: number;
  unreadable: number;
  batches: number;
}

export class Notifier {
  readonly metrics: NotifyMetrics;
  readonly routes: readonly RouteWorker[];
  readonly totals: NotifierTotals = { alerts: 0, unreadable: 0, batches: 0 };
  readonly groupId: string;
  private readonly log: Logger;
  private readonly kafka: KafkaClient;
  private readonly codec = new AvroCodec();
  private readonly producer: StreamProducer;
  private readonly consumer: Consumer;
  private readonly dlqTopic: string;
  private started = false;
  private stopping = false;
  /** Consumer group generation, moved on by every rebalance: a batch read in an earlier one is not committed. */
  private generation = 0;
  /** Per partition: the commit of its last batch read (true once committed); see processBatch. */
  private readonly committing = new Map<number, Promise<boolean>>();
  private finish!: (end: NotifierEnd) => void;
  private readonly ended = new Promise<NotifierEnd>((resolve) => { this.finish = resolve; });

  constructor(private readonly options: NotifierOptions) {
    this.groupId = options.groupId ?? 'leakscope-notify';
    this.log = componentLogger(options.logger, 'notify', { group: this.groupId });
    this.kafka = createKafkaClient({ brokers: options.brokers, clientId: options.clientId ?? 'leakscope-notify', logger: componentLogger(options.logger, 'source.kafka') });
    this.producer = new StreamProducer(this.kafka, this.codec);
    this.dlqTopic = alertsDlqTopic(options.topics);
    this.metrics = options.metrics ?? createNotifyMetrics(() => this.oldestPending());
    const post = options.post ?? postWithFetch;
    this.routes = options.config.routes.map((route) => new RouteWorker(route, {
      post,
      metrics: this.metrics,
      logger: componentLogger(options.logger, 'notify.route', { route: route.name }),
      deadLetter: (alerts, name, reason, attempts) => this.deadLetter(alerts, name, reason, attempts),
    }));
    this.consumer = this.kafka.consumer({ groupId: this.groupId, sessionTimeout: options.sessionTimeoutMs ?? 30_000, heartbeatInterval: Math.min(3000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)), maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  }

  /** Arrival time of the oldest alert some route has not settled, or null. */
  oldestPending(): number | null {
    let oldest: number | null = null;
    for (const r of this.routes) {
      const t = r.oldestPending();
      if (t !== null && (oldest === null || t < oldest)) oldest = t;
    }
    return oldest;
  }

  health(): { ok: boolean; details: Record<string, unknown> } {
    return {
      ok: this.started && !this.stopping,
      details: { ...this.totals, routes: this.routes.map((r) => ({ name: r.route.name, format: r.route.format, pending: r.pending })) },
    };
  }

  async start(): Promise<void> {
    const { topics } = this.options;
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await ensureTopics(admin, topics);
      const existing = new Set(await admin.listTopics());
      if (!existing.has(this.dlqTopic)) {
        await admin.createTopics({ topics: [{ topic: this.dlqTopic, numPartitions: 1 }], waitForLeaders: true }).catch((err: Error) => {
          if (!/already exists/i.test(err.message)) throw err;
        });
      }
      await this.producer.connect();
    } catch (err) {
      throw isLeakscopeError(err) ? err : brokerError('starting notify', err);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const newGeneration = (): void => { this.generation++; this.committing.clear(); };
    this.consumer.on(this.consumer.events.REBALANCING, newGeneration);
    this.consumer.on(this.consumer.events.GROUP_JOIN, newGeneration);
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      if (this.stopping || e.payload.restart) return;
      this.fail(brokerError(`consuming ${topics.alerts}`, e.payload.error));
    });
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({ topics: [topics.alerts], fromBeginning: true });
      await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.processBatch(payload) });
    } catch (err) {
      throw brokerError(`consuming ${topics.alerts}`, err);
    }
    this.started = true;
    this.log.info({ routes: this.routes.map((r) => r.route.name), topic: topics.alerts, dlq: this.dlqTopic }, 'notify started');
  }

  done(): Promise<NotifierEnd> {
    return this.ended;
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const r of this.routes) r.stop();
    await this.consumer.disconnect().catch(() => undefined);
    await this.producer.disconnect();
    this.finish({ kind: 'stopped' });
  }

  private fail(error: Error): void {
    if (this.stopping) return;
    this.log.error({ err: error.message }, 'notify failed');
    this.finish({ kind: 'failed', error });
    void this.stop();
  }

  /**
   * Reads a batch and hands its alerts to the routes, then returns: the commit waits, in the
   * partition's chain, for every alert of the batch to settle and for the batch before it to
   * be committed. Returning at once matters for latency: kafkajs fetches again only when the
   * batch is done, so waiting here would hold every route's next alert behind the slowest
   * route's group interval or retries (a digest route grouping for minutes would delay the
   * pager route by as much). Alerts not yet settled are bounded (MAX_UNSETTLED): past that,
   * the batch waits for its chain before more is read.
   */
  private async processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.isEmpty()) return;
    const readAt = Date.now();
    const settling: Array<Promise<void>> = [];
    const unreadable: Array<{ value: Buffer | null; reason: string; offset: string }> = [];
    const read: AvroLeakAlert[] = [];
    for (const m of batch.messages) {
      let alert: AvroLeakAlert;
      try {
        if (m.value === null) throw new Error('empty message (no value)');
        alert = this.codec.decodeAs('LeakAlert', m.value);
      } catch (err) {
        unreadable.push({ value: m.value, reason: `cannot read the alert: ${(err as Error).message}`, offset: m.offset });
        continue;
      }
      read.push(alert);
      for (const r of this.routes) if (r.accepts(alert)) settling.push(r.submit(alert));
    }
    this.options.onAlertsRead?.(read.map((a) => a.id), readAt);
    if (read.length > 0) this.log.debug({ alert_ids: read.map((a) => a.id), read_at: readAt, partition: batch.partition }, 'alerts read');
    this.metrics.alertsIn.inc({ outcome: 'read' }, read.length);
    if (unreadable.length > 0) {
      this.metrics.alertsIn.inc({ outcome: 'unreadable' }, unreadable.length);
      settling.push(this.producer.send([{
        topic: this.dlqTopic,
        messages: unreadable.map((u) => ({ key: null, value: u.value, headers: { [ALERT_DLQ_HEADERS.reason]: u.reason, [ALERT_DLQ_HEADERS.route]: '', [ALERT_DLQ_HEADERS.attempts]: '0', [ALERT_DLQ_HEADERS.source]: `${batch.topic}/${batch.partition}@${u.offset}` } })),
      }]));
      for (const u of unreadable) this.log.warn({ offset: u.offset, reason: u.reason }, 'record rejected');
    }
    const generation = this.generation;
    const previous = this.committing.get(batch.partition) ?? Promise.resolve(true);
    const link = this.settleAndCommit(payload, settling, previous, generation, { read: read.length, unreadable: unreadable.length });
    this.committing.set(batch.partition, link);
    payload.resolveOffset(batch.lastOffset());
    // Heartbeat while routes retry, so a slow route does not cost the group its member.
    if (this.unsettled() > MAX_UNSETTLED) {
      const beat = setInterval(() => void payload.heartbeat().catch(() => undefined), 1000);
      try {
        await link;
      } finally {
        clearInterval(beat);
      }
    }
  }

  /** Alerts handed to a route and not yet delivered or dead-lettered there. */
  private unsettled(): number {
    let n = 0;
    for (const r of this.routes) n += r.pending;
    return n;
  }

  /**
   * Commits the batch once all of it settled and the batch before it settled and had its turn
   * to commit. True when settled (a failed commit is covered by the next batch's); false when
   * not (notify is failing or stopping) or read before a rebalance: nothing later commits then.
   */
  private async settleAndCommit(payload: EachBatchPayload, settling: Array<Promise<void>>, previous: Promise<boolean>, generation: number, counts: { read: number; unreadable: number }): Promise<boolean> {
    const { batch } = payload;
    try {
      await Promise.all(settling);
    } catch (err) {
      // The DLQ itself failed, or notify is stopping: nothing is committed, the batch comes again.
      if (!this.stopping) this.fail(isLeakscopeError(err) ? err : brokerError('settling alerts', err));
      return false;
    }
    if (!(await previous)) return false;
    // A rebalance since: the partition's new owner reads from the last commit (repeats carry the same ids).
    if (this.stopping || !payload.isRunning() || generation !== this.generation) return false;
    const lastOffset = batch.lastOffset();
    try {
      await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(lastOffset) + 1n).toString() }]);
    } catch (err) {
      this.log.warn({ offset: lastOffset, err: (err as Error).message }, 'commit failed; the next commit covers it, or a restart delivers the alerts again');
      return true;
    }
    this.totals.alerts += counts.read;
    this.totals.unreadable += counts.unreadable;
    this.totals.batches++;
    return true;
  }

  /** A group a route could not deliver, one DLQ record per alert with the route and the reason. */
  private async deadLetter(alerts: readonly AvroLeakAlert[], route: string, reason: string, attempts: number): Promise<void> {
    await this.producer.send([{
      topic: this.dlqTopic,
      messages: alerts.map((a) => ({
        key: a.id,
        value: this.codec.encode('LeakAlert', a),
        headers: { [ALERT_DLQ_HEADERS.reason]: reason, [ALERT_DLQ_HEADERS.route]: route, [ALERT_DLQ_HEADERS.attempts]: String(attempts), [ALERT_DLQ_HEADERS.alertId]: a.id },
      })),
    }]);
  }
}
