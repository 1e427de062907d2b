// The detector service's Kafka loop: gateway-requests (consumer group) → judgeBatch (decode,
// detect() against the registry snapshot, protect, alert decisions: judge-batch.ts, no Kafka
// in it) → rejects and alerts produced → DisclosureStore.write → commit. The partner registry
// is read from the beginning of its compacted topic before the first request is judged, and
// followed while running; a new complete, valid version replaces the snapshot between batches.
//
// Delivery: a batch's offsets are committed only after its disclosures are durable in the
// store, its poison messages are in the dead-letter topic and its alerts in leak-alerts. The
// alerts go out first and the write happens behind them (write-behind, one insert at a time
// per partition, see handOver), so an alert never waits for an insert. A failed write is
// retried with exponential backoff; the batches behind it wait, unwritten and uncommitted, up
// to maxUnwrittenRecords, and then the partition pauses. Nothing is committed until it succeeds. A crash or a rebalance at any point replays the
// batch; disclosure ids are deterministic, so the store keeps it once. Stopping is bounded
// (stop(), settings.drainTimeoutMs): what was not written by then is simply not committed.
import type { Admin, Consumer, EachBatchPayload, Kafka as KafkaClient } from 'kafkajs';
import { LeakscopeError, isLeakscopeError } from '../core/errors.js';
import type { PrivacyKeys } from '../core/privacy/index.js';
import { AvroCodec } from '../avro/index.js';
import { Protector, type DisclosureStore } from '../store/index.js';
import { ENC_KEY_MISMATCH, encKeyCheckToRecord, encKeyDiffers, keyCheckOf } from '../keys/index.js';
import { RegistryState, type ActiveRegistry } from './registry-state/index.js';
import { TopicFollower, brokerError, createKafkaClient, ensureTopics, fetchHighWatermarks, withBrokerRetries, type FollowedMessage, type TopicNames } from '../kafka/index.js';
import { StreamProducer, poisonMessage } from '../kafka/index.js';
import { componentLogger, redactNumbers, type Logger, type StreamMetrics } from '../observability/index.js';
import { AlertTracker } from './alerts.js';
import { detectorSettings, type DetectorSettings } from './config.js';
import { judgeBatch, type JudgedBatch } from './judge-batch.js';
import { JudgeThread, defaultJudgeWorker } from './judge-thread.js';

export interface DetectorOptions {
  brokers: readonly string[];
  topics: TopicNames;
  store: DisclosureStore;
  keys: PrivacyKeys;
  logger: Logger;
  metrics: StreamMetrics;
  settings?: Partial<DetectorSettings>;
  /** kafkajs client id; default `leakscope-detector`. */
  clientId?: string;
  /** Test hook: called after a batch is written and before its offsets are committed. A throw stops the detector there, as a crash would. */
  afterWriteForTest?: (info: { partition: number; lastOffset: string; written: number }) => void;
  /** Clock for alert times; default Date.now. */
  now?: () => number;
  /** Script of the judging thread (judge-thread.ts); null judges in this thread. Default: the compiled one, when it exists. */
  judgeWorker?: URL | null;
  /** Called when a batch is committed, with the wall-clock time of each of its steps (bench/alerts.ts splits the alert latency with it). */
  onBatchTimes?: (times: BatchTimes) => void;
}

/** Wall-clock times (epoch ms) of one batch's steps, from its arrival in the detector to its commit. */
export interface BatchTimes {
  partition: number;
  records: number;
  /** The newest record's Kafka timestamp (its producer's create time). */
  newestRecordAt: number;
  /** eachBatch called: the records are fetched. */
  fetchedAt: number;
  judgedAt: number;
  /** Its alerts (and rejects) acknowledged by Kafka. */
  raisedAt: number;
  /** Its disclosures durable in the store. */
  storedAt: number;
  committedAt: number;
  alerts: Array<{ id: string; kind: string; site: string | null }>;
}

export interface DetectorTotals {
  records: number;
  disclosures: number;
  violations: number;
  poison: number;
  batches: number;
  alerts: number;
}

/** Stopped on purpose (signal, --once finished) vs. a fault. */
export type DetectorEnd = { kind: 'stopped' } | { kind: 'failed'; error: Error };

export class Detector {
  readonly settings: Readonly<DetectorSettings>;
  readonly totals: DetectorTotals = { records: 0, disclosures: 0, violations: 0, poison: 0, batches: 0, alerts: 0 };
  private readonly log: Logger;
  private readonly alertLog: Logger;
  private readonly registryLog: Logger;
  private readonly kafka: KafkaClient;
  private readonly codec = new AvroCodec();
  private readonly registryState: RegistryState;
  private readonly protector: Protector;
  private readonly alerts: AlertTracker;
  private readonly judgeThread: JudgeThread | null;
  private readonly producer: StreamProducer;
  private readonly admin: Admin;
  private readonly consumer: Consumer;
  private follower: TopicFollower | null = null;
  private ended: Promise<DetectorEnd>;
  private finish!: (end: DetectorEnd) => void;
  private stopping = false;
  private started = false;
  private onceTimer: NodeJS.Timeout | null = null;
  private readonly assigned = new Set<number>();
  /** The batch being judged; the next waits for it (see judge). */
  private judging: Promise<void> = Promise.resolve();
  /** Aborted by stop(): every wait and every write or produce in flight gives up at once. */
  private readonly abort = new AbortController();
  private stopped: Promise<void> | null = null;
  /** Steps of stop() that did not finish within the drain time, and calls abandoned by it (their clients left behind). */
  private readonly late: string[] = [];
  /** Per partition: the batches judged and alerted but not yet written and committed; see handOver. */
  private readonly writers = new Map<number, PartitionWriter>();
  /** Per partition: its last batch ended uncommitted; the next one waits until `until`. */
  private readonly backoff = new Map<number, { delayMs: number; until: number }>();

  constructor(private readonly options: DetectorOptions) {
    this.settings = detectorSettings(options.settings);
    this.log = componentLogger(options.logger, 'detector', { group: this.settings.groupId });
    this.alertLog = componentLogger(options.logger, 'detector.alerts');
    this.registryLog = componentLogger(options.logger, 'registry-state');
    this.kafka = createKafkaClient({ brokers: options.brokers, clientId: options.clientId ?? 'leakscope-detector', logger: componentLogger(options.logger, 'source.kafka') });
    this.registryState = new RegistryState(this.codec);
    this.protector = new Protector(options.keys);
    this.alerts = new AlertTracker({ spreadSites: this.settings.spreadSites, spreadWindowMs: this.settings.spreadWindowMs, spreadQuietMs: this.settings.spreadQuietMs, spreadListLimit: 50 });
    this.producer = new StreamProducer(this.kafka, this.codec);
    const judgeWorker = options.judgeWorker === undefined ? defaultJudgeWorker() : options.judgeWorker;
    this.judgeThread = judgeWorker === null ? null
      : new JudgeThread(judgeWorker, options.keys, (err) => this.log.warn({ err: err.message }, 'judging thread failed; batches are judged in the detector thread'));
    this.admin = this.kafka.admin();
    const s = this.settings;
    this.consumer = this.kafka.consumer({
      groupId: s.groupId,
      sessionTimeout: s.sessionTimeoutMs,
      rebalanceTimeout: s.rebalanceTimeoutMs,
      heartbeatInterval: s.heartbeatIntervalMs,
      maxBytes: s.maxBytes,
      maxBytesPerPartition: s.maxBytesPerPartition,
      minBytes: s.minBytes,
      maxWaitTimeInMs: s.maxWaitTimeMs,
      allowAutoTopicCreation: false,
      // kafkajs restarts a crashed consumer by itself; never once the detector is stopping,
      // or a consumer restarted after stop() would fetch and judge with nothing to write to.
      retry: { restartOnFailure: async () => !this.stopping },
    });
    this.ended = new Promise<DetectorEnd>((resolve) => { this.finish = resolve; });
  }

  /** The registry in use (null before the first one is read). */
  get registry(): ActiveRegistry | null {
    return this.registryState.current;
  }

  /** Health for /healthz: running with a registry. */
  health(): { ok: boolean; details: Record<string, unknown> } {
    const reg = this.registryState.current;
    return {
      ok: this.started && !this.stopping && reg !== null,
      details: { registry_version: reg?.registry.version ?? null, partitions: [...this.assigned].sort((a, b) => a - b), ...this.totals },
    };
  }

  /**
   * Connects, reads the registry to its end, seeds the alert state from the store, and starts
   * consuming. Resolves once consuming has started, or early when stop() is called meanwhile;
   * `done()` resolves when the detector ends.
   */
  async start(): Promise<void> {
    const { topics } = this.options;
    const signal = this.abort.signal;
    await withBrokerRetries('starting the detector', () => this.admin.connect(), { signal });
    await ensureTopics(this.admin, topics, {}, { signal });
    await this.producer.connect({ signal });
    if (this.stopping) return;

    this.follower = new TopicFollower(this.kafka, {
      topic: topics.registry,
      groupPrefix: `${this.settings.groupId}-registry`,
      logger: this.log,
      onMessages: (messages) => this.applyRegistry(messages),
    });
    await this.follower.start();
    if ((await untilAborted(this.follower.caughtUp, signal)) === ABORTED) return;
    const active = this.registryState.current;
    if (active === null) {
      throw new LeakscopeError('CONFIG_INVALID',
        `no valid partner registry on topic ${topics.registry}: publish one first with leakscope registry publish FILE --brokers …`);
    }
    await this.checkStoreMeta(active);
    await this.seedAlerts();
    if (this.stopping) return;

    const endOffsets = this.settings.once ? await fetchHighWatermarks(this.admin, topics.requests) : null;
    // A rebalance may give any partition to another member: until the group is joined again,
    // nothing is judged or committed (what was written is read again, and stored once).
    // A new generation starts from the committed offsets: its batches chain on no write of the last one.
    this.consumer.on(this.consumer.events.REBALANCING, () => { this.assigned.clear(); this.writers.clear(); });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.assigned.clear();
      this.writers.clear();
      for (const p of e.payload.memberAssignment[topics.requests] ?? []) this.assigned.add(p);
      this.log.info({ partitions: [...this.assigned], leader: e.payload.isLeader }, 'partitions assigned');
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      const error = e.payload.error;
      if (this.stopping) return;
      if (e.payload.restart) {
        this.log.warn({ err: error.message }, 'consumer restarting');
        return;
      }
      this.fail(brokerError('consuming gateway-requests', error));
    });
    const doing = `consuming ${topics.requests}`;
    await withBrokerRetries(doing, () => this.consumer.connect(), { signal });
    await withBrokerRetries(doing, () => this.consumer.subscribe({ topics: [topics.requests], fromBeginning: true }), { signal });
    if (this.stopping) return;
    try {
      await this.consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently,
        eachBatch: (payload) => this.processBatch(payload),
      });
    } catch (err) {
      throw brokerError(doing, err);
    }
    this.started = true;
    this.log.info({ registry_version: active.registry.version, once: this.settings.once, known_sites: this.alerts.knownSites }, 'detector started');
    if (endOffsets !== null) this.watchCaughtUp(endOffsets);
  }

  /** After stop(): the clients that did not disconnect within the drain time, or had a call abandoned (they may still hold the event loop). */
  get leftBehind(): readonly string[] {
    return this.late;
  }

  /** Resolves when the detector ends: stopped (signal, --once) or failed. */
  done(): Promise<DetectorEnd> {
    return this.ended;
  }

  /**
   * Stops within settings.drainTimeoutMs whatever the state of Kafka and the store: the batch
   * in process gives up at once (a write or produce in flight is abandoned, nothing of it
   * committed: its records are read again by the next owner and stored once), then the
   * consumer leaves the group and the clients disconnect, each step bounded by what is left
   * of the drain time. A client that does not finish in time is left behind, and said so.
   */
  stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    this.stopping = true;
    this.abort.abort();
    if (this.onceTimer) clearTimeout(this.onceTimer);
    const deadline = Date.now() + this.settings.drainTimeoutMs;
    const within = async (what: string, step: () => Promise<unknown>): Promise<void> => {
      const left = deadline - Date.now();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), Math.max(0, left)); });
      const outcome = await Promise.race([step().then(() => 'done' as const, () => 'done' as const), late]);
      clearTimeout(timer);
      if (outcome === 'late') this.late.push(what);
      if (outcome === 'late') this.log.warn({ step: what, drain_timeout_ms: this.settings.drainTimeoutMs }, 'drain time exceeded; not waiting for it');
    };
    this.stopped = (async () => {
      // All at once: the batch in process has given up, so nothing needs the producer any more.
      await Promise.all([
        within('consumer', () => this.consumer.disconnect()),
        within('registry reader', async () => { await this.follower?.stop(); }),
        within('producer', () => this.producer.disconnect()),
        within('admin', () => this.admin.disconnect()),
        within('judging thread', async () => { await this.judgeThread?.close(); }),
      ]);
      this.log.info({ records: this.totals.records, batches: this.totals.batches }, 'detector stopped');
      this.finish({ kind: 'stopped' });
    })();
    return this.stopped;
  }

  private fail(error: Error): void {
    if (this.stopping) return;
    this.log.error({ err: error.message, code: (error as LeakscopeError).code }, 'detector failed');
    this.stop().finally(() => undefined);
    // stop() resolved `ended` as stopped unless we resolve first.
    this.finish({ kind: 'failed', error });
  }

  private async applyRegistry(messages: FollowedMessage[]): Promise<void> {
    for (const m of messages) {
      const outcome = this.registryState.applyMessage(m.key, m.value);
      if (outcome.kind === 'refused') {
        this.options.metrics.registryUpdates.inc({ outcome: 'refused' });
        this.registryLog.warn({ key: outcome.key, offset: m.offset, reason: outcome.reason }, 'registry refused');
      }
    }
    const settled = this.registryState.settle();
    switch (settled.kind) {
      case 'applied':
        this.options.metrics.registryUpdates.inc({ outcome: 'applied' });
        this.registryLog.info({ registry_version: settled.version, partners: settled.partners, entries: settled.entries }, 'registry applied');
        break;
      case 'refused':
        this.options.metrics.registryUpdates.inc({ outcome: 'refused' });
        this.registryLog.warn({ registry_version: settled.version, problems: settled.problems.slice(0, 20), kept: this.registryState.current?.registry.version ?? null }, 'registry refused');
        break;
      case 'pending':
        this.registryLog.debug({ reason: settled.reason }, 'registry pending');
        break;
      case 'unchanged':
        break;
    }
  }

  /** The store's key check and region must be this detector's (who-saw lookups need one key and one region for all writers). */
  private async checkStoreMeta(active: ActiveRegistry): Promise<void> {
    const keyCheck = keyCheckOf(this.options.keys);
    const meta = await this.options.store.readMeta();
    if (meta.keyCheck !== null && meta.keyCheck !== keyCheck) {
      throw new LeakscopeError('KEY_INVALID',
        'the store holds disclosures written with another hash key; give the detector the same LEAKSCOPE_HASH_KEY (or --key-file) as every other writer of this store');
    }
    if (encKeyDiffers(meta, this.options.keys)) throw new LeakscopeError('KEY_INVALID', ENC_KEY_MISMATCH);
    if (meta.region !== null && meta.region !== active.registry.region) {
      throw new LeakscopeError('REGISTRY_INVALID',
        `the store holds numbers normalised with region ${meta.region}, and the published registry says region ${active.registry.region}: ` +
        'the same subscriber would be stored under two hashes; publish a registry with the store\'s region, or use a new ClickHouse database');
    }
    const encKeyCheck = encKeyCheckToRecord(meta, this.options.keys);
    if (meta.keyCheck === null || meta.region === null || encKeyCheck !== undefined) {
      await this.options.store.writeMeta({ region: active.registry.region, keyCheck, ...(encKeyCheck === undefined ? {} : { encKeyCheck }) });
    }
  }

  /** Sites that already have a violation in the store raise no first-disclosure alert again. */
  private async seedAlerts(): Promise<void> {
    this.alerts.seed(await this.options.store.alertedSites());
    this.alerts.seedAlerts(await this.options.store.recentAlerts({ limit: 1_000_000 }));
  }

  private watchCaughtUp(endOffsets: Map<number, bigint>): void {
    const { topics } = this.options;
    const check = async (): Promise<void> => {
      if (this.stopping) return;
      try {
        const committed = await this.admin.fetchOffsets({ groupId: this.settings.groupId, topics: [topics.requests] });
        const parts = committed[0]?.partitions ?? [];
        const behind = [...endOffsets].filter(([p, end]) => {
          const c = parts.find((x) => x.partition === p)?.offset ?? '-1';
          const at = BigInt(c === '-1' ? '0' : c);
          return end > 0n && at < end;
        });
        if (behind.length === 0) {
          this.log.info({ records: this.totals.records, disclosures: this.totals.disclosures }, 'caught up');
          await this.stop();
          return;
        }
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'checking committed offsets failed; will retry');
      }
      this.onceTimer = setTimeout(() => void check(), this.settings.caughtUpCheckMs);
    };
    this.onceTimer = setTimeout(() => void check(), this.settings.caughtUpCheckMs);
  }

  /**
   * Whether this member still owns the batch's partition. kafkajs' isStale() only says a seek
   * is pending; revocation is known from the group events (assigned is cleared on REBALANCING
   * and refilled on GROUP_JOIN).
   */
  private owns(payload: EachBatchPayload): boolean {
    return !this.stopping && payload.isRunning() && !payload.isStale() && this.assigned.has(payload.batch.partition);
  }

  /**
   * Judges a batch's records (judge-batch.ts) against one registry snapshot. Batches of several
   * partitions take turns (one judged at a time, in arrival order), and judging yields to I/O
   * now and then: the first batch's insert then runs in ClickHouse while the next is judged.
   * Interleaving them instead would finish all at once and leave ClickHouse idle until then.
   * Null when the partition was taken away (or the detector stops) meanwhile.
   */
  private judge(payload: EachBatchPayload): Promise<JudgedBatch | null> {
    const turn = this.judging.then(async () => {
      if (!this.owns(payload)) return null;
      const { batch } = payload;
      const judged = await judgeBatch(batch.messages, {
        codec: this.codec,
        protector: this.protector,
        active: this.registryState.current!,
        alerts: this.alerts,
        now: this.options.now ?? Date.now,
        thread: this.judgeThread,
      }, { source: `${batch.topic}/${batch.partition}`, stillWanted: () => this.owns(payload) });
      if (judged !== null && !this.owns(payload)) {
        judged.alerts.abandon();
        return null;
      }
      return judged;
    });
    this.judging = turn.then(() => undefined, () => undefined);
    return turn;
  }

  /**
   * One batch: judge, send its rejects and alerts, hand its write and commit over to the
   * partition's writer (handOver), and return, so that kafkajs fetches the next records while
   * this batch is being written. A batch that ends without being handed over (a failure, a
   * rejoin, a stop) leaves the partition to wait before its next batch (waitOutBackoff): the
   * same records come back at once, and judging and writing them again in a tight loop would
   * only burn the CPU the recovery needs.
   */
  private async processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (this.stopping || batch.isEmpty()) return;
    const fetchedAt = Date.now();
    const partition = batch.partition;
    if (!(await this.waitOutBackoff(payload))) return;
    let handedOver = false;
    try {
      handedOver = await this.judgeAndHandOver(payload, fetchedAt);
    } finally {
      if (handedOver) this.backoff.delete(partition);
      else if (!this.stopping) {
        const last = this.backoff.get(partition)?.delayMs ?? 0;
        const delayMs = last === 0 ? this.settings.retryInitialMs : Math.min(last * 2, this.settings.retryMaxMs);
        this.backoff.set(partition, { delayMs, until: Date.now() + delayMs });
      }
    }
  }

  /** Waits out the partition's backoff, heartbeating; false when the batch is not ours any more. */
  private async waitOutBackoff(payload: EachBatchPayload): Promise<boolean> {
    const b = this.backoff.get(payload.batch.partition);
    if (b === undefined) return true;
    while (Date.now() < b.until) {
      if (!this.owns(payload)) return false;
      await sleep(Math.min(500, b.until - Date.now()), this.abort.signal);
      await payload.heartbeat().catch(() => undefined);
    }
    return this.owns(payload);
  }

  /** Judges the batch, sends its rejects and alerts, and hands it to the partition's writer. True when handed over. */
  private async judgeAndHandOver(payload: EachBatchPayload, fetchedAt: number): Promise<boolean> {
    const { batch } = payload;
    const { topics, metrics } = this.options;
    const judged = await this.judge(payload);
    if (judged === null) return false;
    const judgedAt = Date.now();
    const { rejected, alerts: pending } = judged;
    for (const r of rejected) this.log.warn({ source: r.source, reason: redactNumbers(r.reason), topic: topics.dlq }, 'record rejected');
    const dlq = rejected.map((r) => poisonMessage(r.value, r.key, r.reason, r.source));

    // 1. Poison messages and alerts, acknowledged (alerts before the write: see alerts.ts).
    if (dlq.length > 0 || pending.alerts.length > 0) {
      const outgoing = [
        { topic: topics.dlq, messages: dlq },
        { topic: topics.alerts, messages: pending.alerts.map((a) => this.producer.alertMessage(a)) },
      ];
      let sent = false;
      try {
        sent = await this.retrying('produce', () => this.producer.send(outgoing, { signal: this.abort.signal }), payload);
      } finally {
        if (!sent) pending.abandon();
      }
      if (!sent) return false;
      pending.commit();
      // The wall-clock times of its batch's steps, so that an alert's latency can be split by
      // hop from the logs alone (bench/alerts.ts reads them from this process's log).
      const raisedAt = Date.now();
      for (const a of pending.alerts) {
        metrics.alerts.inc({ kind: a.kind });
        this.alertLog.warn({ kind: a.kind, site: a.site, host: a.host, verdict: a.verdict, sites: a.sites.length, count: a.count, alert_id: a.id, fetched_at: fetchedAt, judged_at: judgedAt, raised_at: raisedAt, fetched_to_raised_ms: raisedAt - fetchedAt }, 'alert raised');
      }
      this.totals.alerts += pending.alerts.length;
    }
    // 2. Written and committed by the partition's writer.
    if (!this.owns(payload)) return false;
    await this.handOver({ payload, judged, rejected: dlq.length, times: { fetchedAt, judgedAt, raisedAt: Date.now() } });
    return true;
  }

  /**
   * Gives a judged and alerted batch to its partition's writer and returns at once, unless the
   * partition already has more than maxUnwrittenRecords waiting: then it waits for the writer
   * (the pause that bounds memory). Why the write is not awaited: kafkajs fetches the next
   * records of every partition only once each batch of the last fetch is done, so a batch that
   * waited for its own insert held every alert of the next fetch behind it (the bench measured
   * this as most of the latency). The writer sends one insert at a time per partition, of every
   * batch handed over since the last one began: inserts come no faster than the store takes
   * them, and grow with the load instead of multiplying.
   */
  private async handOver(handed: HandedOver): Promise<void> {
    const partition = handed.payload.batch.partition;
    let writer = this.writers.get(partition);
    if (writer === undefined) this.writers.set(partition, (writer = { queue: [], unwritten: 0, flushing: null }));
    writer.queue.push(handed);
    writer.unwritten += handed.payload.batch.messages.length;
    handed.payload.resolveOffset(handed.payload.batch.lastOffset());
    if (writer.flushing === null) writer.flushing = this.flush(partition, writer);
    while (writer.unwritten > this.settings.maxUnwrittenRecords && writer.flushing !== null) {
      await writer.flushing;
      await handed.payload.heartbeat().catch(() => undefined);
    }
  }

  /** The writer's loop: everything queued goes out as one write and one commit, until the queue is empty or a write is given up. */
  private async flush(partition: number, writer: PartitionWriter): Promise<void> {
    try {
      while (writer.queue.length > 0) {
        const group = writer.queue.splice(0);
        const ok = await this.writeAndCommit(group).catch(() => false);
        for (const h of group) writer.unwritten -= h.payload.batch.messages.length;
        if (!ok) {
          // What was queued behind it was fetched after it: the seek (writeAndCommit) reads it all again.
          for (const h of writer.queue.splice(0)) writer.unwritten -= h.payload.batch.messages.length;
          if (this.writers.get(partition) === writer) this.writers.delete(partition);
          return;
        }
      }
    } finally {
      writer.flushing = null;
    }
  }

  /**
   * Step 2 of a group of consecutive batches of one partition: their disclosures (and alerts,
   * for the API) durable in the store, then the last one's offsets committed. False when either
   * was given up (the partition taken away, a stop, a commit refused): while the partition is
   * still ours, the consumer goes back to the group's first offset (what follows was fetched
   * already), so nothing after an unwritten batch is committed and it is read and written again.
   */
  private async writeAndCommit(group: readonly HandedOver[]): Promise<boolean> {
    const first = group[0]!.payload;
    const last = group[group.length - 1]!.payload;
    const { batch } = last;
    const { metrics } = this.options;
    const stored = group.flatMap((h) => h.judged.stored);
    const alerts = group.flatMap((h) => h.judged.alerts.alerts);
    const readAgain = (): false => {
      if (this.owns(last)) this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: first.batch.firstOffset()! });
      return false;
    };
    if (stored.length > 0 || alerts.length > 0) {
      const written = await this.retrying('write', async () => {
        const t0 = process.hrtime.bigint();
        try {
          // Two inserts, sent together: the alerts' row must not add an insert's latency to the batch.
          await Promise.all([this.options.store.write(stored), this.options.store.writeAlerts(alerts)]);
          metrics.insertSeconds.observe({ outcome: 'ok' }, Number(process.hrtime.bigint() - t0) / 1e9);
        } catch (err) {
          metrics.insertSeconds.observe({ outcome: 'failed' }, Number(process.hrtime.bigint() - t0) / 1e9);
          throw err;
        }
      }, last);
      if (!written) return readAgain();
    }
    const storedAt = Date.now();
    const lastOffset = batch.lastOffset();
    if (this.options.afterWriteForTest) {
      try {
        this.options.afterWriteForTest({ partition: batch.partition, lastOffset, written: stored.length });
      } catch (err) {
        this.fail(err as Error);
        throw err;
      }
    }
    // 3. Only now: commit. A batch whose partition went to another member is not committed;
    // the new owner reads it again and the store keeps it once. A failed commit is retried
    // here rather than by reading, judging and writing the batch again.
    if (!this.owns(last)) return false;
    const next = (BigInt(lastOffset) + 1n).toString();
    const commit = await this.retrying('commit', async () => {
      try {
        await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      } catch (err) {
        throw brokerError(`committing ${batch.topic}/${batch.partition}@${next}`, err);
      }
    }, last);
    if (!commit) return readAgain();
    const committedAt = Date.now();

    for (const { payload: { batch: b }, judged, rejected, times } of group) {
      const n = b.messages.length;
      this.totals.records += n;
      this.totals.disclosures += judged.stored.length;
      this.totals.violations += judged.violations.length;
      this.totals.poison += rejected;
      this.totals.batches++;
      metrics.recordsIn.inc({ source: 'kafka' }, n);
      metrics.batchSize.observe({ source: 'kafka' }, n);
      if (rejected > 0) metrics.rejects.inc({ source: 'kafka' }, rejected);
      for (const [verdict, count] of Object.entries(judged.verdicts)) metrics.disclosures.inc({ verdict }, count);
      this.options.onBatchTimes?.({
        partition: b.partition, records: n, newestRecordAt: newestTimestamp(b.messages), ...times, storedAt, committedAt,
        alerts: judged.alerts.alerts.map((a) => ({ id: a.id, kind: a.kind, site: a.site })),
      });
      this.log.info({ partition: b.partition, first_offset: b.firstOffset(), last_offset: b.lastOffset(), records: n, disclosures: judged.stored.length, violations: judged.violations.length, rejected, registry_version: judged.active.registry.version, judge_ms: times.judgedAt - times.fetchedAt, raise_ms: times.raisedAt - times.judgedAt, store_ms: storedAt - times.raisedAt, commit_ms: committedAt - storedAt, batches_in_insert: group.length }, 'batch written');
    }
    metrics.consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(batch.offsetLag()));
    return true;
  }

  /**
   * Runs `fn` until it succeeds, waiting 200 ms, 400 ms, … up to retryMaxMs between attempts
   * and heartbeating meanwhile. Gives up (false, nothing committed) when the partition is
   * taken away or the detector stops — at once, even with `fn` still running (a write to a
   * store that does not answer is abandoned, not awaited). A non-retryable error fails the
   * detector after a few tries.
   */
  private async retrying(what: 'write' | 'produce' | 'commit', fn: () => Promise<void>, payload: EachBatchPayload): Promise<boolean> {
    let delay = this.settings.retryInitialMs;
    let refused = 0;
    for (let attempt = 1; ; attempt++) {
      if (!this.owns(payload)) return false;
      try {
        const outcome = await untilAborted(fn(), this.abort.signal);
        if (outcome === ABORTED) {
          // Left running in its client (kafkajs keeps retrying a produce by itself): say so.
          if (!this.late.includes(`${what} in flight`)) this.late.push(`${what} in flight`);
          return false;
        }
        return true;
      } catch (err) {
        if (this.stopping) return false;
        const e = isLeakscopeError(err) ? err : new LeakscopeError(what === 'write' ? 'STORE_FAILED' : 'BROKER_FAILED', String((err as Error)?.message ?? err), { cause: err, retryable: true });
        if (!e.retryable && what === 'commit') {
          // E.g. the member was dropped from the group while the broker was away: the batch is
          // read again (by whoever owns it now) and stored once.
          this.log.warn({ partition: payload.batch.partition, err: e.message }, 'commit failed; the batch will be read again');
          return false;
        }
        if (!e.retryable && ++refused >= this.settings.nonRetryableAttempts) {
          this.fail(e);
          throw e;
        }
        this.options.metrics.insertRetries.inc();
        this.log.warn({ what, attempt, delay_ms: delay, partition: payload.batch.partition, err: e.message, retryable: e.retryable }, `${what} failed; retrying`);
      }
      const until = Date.now() + delay;
      while (Date.now() < until) {
        if (!this.owns(payload)) return false;
        await sleep(Math.min(1000, until - Date.now()), this.abort.signal);
        await payload.heartbeat().catch(() => undefined);
      }
      delay = Math.min(delay * 2, this.settings.retryMaxMs);
    }
  }
}

/** A batch judged and alerted, waiting for its partition's writer. */
interface HandedOver {
  payload: EachBatchPayload;
  judged: JudgedBatch;
  /** Its records sent to the dead-letter topic. */
  rejected: number;
  times: { fetchedAt: number; judgedAt: number; raisedAt: number };
}

/** One partition's write-behind: batches queued, records not yet committed, the loop writing them. */
interface PartitionWriter {
  queue: HandedOver[];
  unwritten: number;
  flushing: Promise<void> | null;
}

const ABORTED: unique symbol = Symbol('aborted');

function newestTimestamp(messages: ReadonlyArray<{ timestamp: string }>): number {
  let newest = 0;
  for (const m of messages) {
    const t = Number(m.timestamp);
    if (t > newest) newest = t;
  }
  return newest;
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** `promise`'s value, or ABORTED as soon as `signal` aborts (the promise is then left to settle unobserved). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.resolve(ABORTED);
  }
  return new Promise<T | typeof ABORTED>((resolve, reject) => {
    const onAbort = (): void => { promise.catch(() => undefined); resolve(ABORTED); };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
      (err: unknown) => { signal.removeEventListener('abort', onAbort); reject(err); },
    );
  });
}
