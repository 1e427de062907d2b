// The detector service's Kafka loop: gateway-requests (consumer group) → judgeBatch (decode,
// detect() against the registry snapshot, protect, alert decisions: judge-batch.ts, no Kafka
// in it) → rejects and alerts produced → DisclosureStore.write → commit. The partner registry
// is read from the beginning of its compacted topic before the first request is judged, and
// followed while running; a new complete, valid version replaces the snapshot between batches.
//
// Delivery: a batch's offsets are committed only after its disclosures are durable in the
// store, its poison messages are in the dead-letter topic and its alerts in leak-alerts. Each
// partition's batches go to its writer in offset order as they are fetched, and eachBatch
// returns at once: kafkajs fetches and decodes the next records while the batches before are
// judged (processBatch). The writer takes each batch once it is judged and its alerts are sent
// (alerts first, so an alert never waits for an insert), one insert at a time per partition,
// then commits. A failed write is retried with exponential backoff; the batches behind it
// wait, uncommitted, up to maxUnwrittenRecords, and then the partition pauses. A batch given up
// (judging, alerts, write, commit, revocation, stop) gives up every batch behind it: nothing
// after it is committed, and the consumer goes back to its first offset (giveUp). A crash or a
// rebalance at any point replays the batch; disclosure ids are deterministic, so the store
// keeps it once. Stopping is bounded (stop(), settings.drainTimeoutMs): what was not written
// by then is simply not committed.
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
  /** Test hook: called when a batch is judged, before its rejects and alerts are sent. A throw (or rejection) gives the batch up as a failed produce would: it is read again. */
  beforeRaiseForTest?: (info: { partition: number; firstOffset: string; lastOffset: string }) => void | Promise<void>;
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
  /** Per partition: the batches taken from kafkajs and not yet committed, in offset order; see take. */
  private readonly writers = new Map<number, PartitionWriter>();
  /** Every writer's loop still running (a writer left by a rebalance included): stop() waits for them. */
  private readonly flushes = new Set<Promise<void>>();
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
   * Stops within settings.drainTimeoutMs whatever the state of Kafka and the store: the batches
   * in process give up at once (a write or produce in flight is abandoned, nothing of it
   * committed: its records are read again by the next owner and stored once), their judging and
   * writers' loops are waited for, then the consumer leaves the group and the clients
   * disconnect, each step bounded by what is left of the drain time. A client that does not
   * finish in time is left behind, and said so.
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
      // What is in flight has given up (aborted, not wanted): it ends before the clients go.
      await within('batches in process', () => Promise.all([this.judging, ...this.flushes]));
      // All at once: nothing needs the producer any more.
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
   * Null when the batch is not wanted any more (`wanted`: its partition taken away, its writer
   * given up, the detector stopping).
   */
  private judge(payload: EachBatchPayload, wanted: () => boolean): Promise<JudgedBatch | null> {
    const turn = this.judging.then(async () => {
      if (!wanted()) return null;
      const { batch } = payload;
      const judged = await judgeBatch(batch.messages, {
        codec: this.codec,
        protector: this.protector,
        active: this.registryState.current!,
        alerts: this.alerts,
        now: this.options.now ?? Date.now,
        thread: this.judgeThread,
      }, { source: `${batch.topic}/${batch.partition}`, stillWanted: wanted });
      if (judged !== null && !wanted()) {
        judged.alerts.abandon();
        return null;
      }
      return judged;
    });
    this.judging = turn.then(() => undefined, () => undefined);
    return turn;
  }

  /**
   * One batch: queued on its partition's writer with its judging started (take), its offset
   * resolved, and returned at once, so that kafkajs fetches and decodes the next records while
   * this batch is judged, alerted and written. Why not await the judging: kafkajs 2.2.4
   * fetches again only once eachBatch has returned for every batch of the last fetch
   * (consumer/fetcher.js), and decodes a whole fetch on this thread, so a batch that waited for
   * its own judging left the judging thread idle during every fetch and this thread idle
   * during every judging. The partition's pause (maxUnwrittenRecords) bounds how far ahead
   * fetching runs. A partition whose last batch was given up waits before its next one
   * (waitOutBackoff): the same records come back at once, and judging and writing them again in
   * a tight loop would only burn the CPU the recovery needs.
   */
  private async processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (this.stopping || batch.isEmpty()) return;
    const fetchedAt = Date.now();
    if (!(await this.waitOutBackoff(payload))) return;
    // Checked in the same turn as the batch is queued: a batch fetched before a seek of its
    // partition (isStale) is never queued behind the one the seek goes back to.
    if (!this.owns(payload)) return;
    const writer = this.take(payload, fetchedAt);
    while (writer.unwritten > this.settings.maxUnwrittenRecords && this.writers.get(batch.partition) === writer) {
      await new Promise<void>((resolve) => writer.progressed.push(resolve));
      await payload.heartbeat().catch(() => undefined);
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

  /**
   * Queues the batch on its partition's writer, its judging and alerting started (ready), and
   * resolves its offset (kafkajs fetches on from there; nothing is committed by it). The writer
   * takes the batches in offset order as each is ready (flush).
   */
  private take(payload: EachBatchPayload, fetchedAt: number): PartitionWriter {
    const partition = payload.batch.partition;
    let writer = this.writers.get(partition);
    if (writer === undefined) this.writers.set(partition, (writer = { queue: [], unwritten: 0, flushing: null, progressed: [] }));
    const w = writer;
    const wanted = (): boolean => this.writers.get(partition) === w && this.owns(payload);
    const taken: Taken = { payload, wanted, outcome: undefined, ready: Promise.resolve(null) };
    taken.ready = this.judgeAndRaise(payload, wanted, fetchedAt)
      .catch((err: unknown) => {
        if (!this.stopping) this.log.warn({ partition, first_offset: payload.batch.firstOffset(), err: (err as Error)?.message ?? String(err) }, 'batch given up; it will be read again');
        return null;
      })
      .then((outcome) => (taken.outcome = outcome));
    writer.queue.push(taken);
    writer.unwritten += payload.batch.messages.length;
    payload.resolveOffset(payload.batch.lastOffset());
    if (writer.flushing === null) {
      const flushing = this.flush(partition, writer);
      writer.flushing = flushing;
      this.flushes.add(flushing);
      void flushing.finally(() => this.flushes.delete(flushing));
    }
    return writer;
  }

  /** Judges the batch and sends its rejects and alerts (acknowledged); null when it was given up. */
  private async judgeAndRaise(payload: EachBatchPayload, wanted: () => boolean, fetchedAt: number): Promise<Raised | null> {
    const { batch } = payload;
    const { topics, metrics } = this.options;
    const judged = await this.judge(payload, wanted);
    if (judged === null) return null;
    const judgedAt = Date.now();
    const { rejected, alerts: pending } = judged;
    try {
      await this.options.beforeRaiseForTest?.({ partition: batch.partition, firstOffset: batch.firstOffset()!, lastOffset: batch.lastOffset() });
    } catch (err) {
      pending.abandon();
      throw err;
    }
    for (const r of rejected) this.log.warn({ source: r.source, reason: redactNumbers(r.reason), topic: topics.dlq }, 'record rejected');
    const dlq = rejected.map((r) => poisonMessage(r.value, r.key, r.reason, r.source));

    // Poison messages and alerts, acknowledged (alerts before the write: see alerts.ts).
    if (dlq.length > 0 || pending.alerts.length > 0) {
      const outgoing = [
        { topic: topics.dlq, messages: dlq },
        { topic: topics.alerts, messages: pending.alerts.map((a) => this.producer.alertMessage(a)) },
      ];
      let sent = false;
      try {
        sent = await this.retrying('produce', () => this.producer.send(outgoing, { signal: this.abort.signal }), payload, wanted);
      } finally {
        if (!sent) pending.abandon();
      }
      if (!sent) return null;
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
    return { payload, wanted, judged, rejected: dlq.length, times: { fetchedAt, judgedAt, raisedAt: Date.now() } };
  }

  /**
   * The writer's loop: the batches at the head of the queue that are judged and alerted by now
   * go out as one write and one commit (inserts come no faster than the store takes them, and
   * grow with the load instead of multiplying), in offset order, until the queue is empty. A
   * batch given up (its judging, alerts, write or commit) gives the writer up: nothing after it
   * is committed, and the consumer goes back to its first offset (giveUp).
   */
  private async flush(partition: number, writer: PartitionWriter): Promise<void> {
    try {
      while (writer.queue.length > 0) {
        const head = writer.queue[0]!;
        const first = await head.ready;
        if (first === null || this.writers.get(partition) !== writer) return this.giveUp(partition, writer, head.payload);
        const group: Raised[] = [];
        let n = 0;
        for (const t of writer.queue) {
          if (t.outcome === undefined || t.outcome === null) break;
          group.push(t.outcome);
          n++;
        }
        const ok = await this.writeAndCommit(group).catch(() => false);
        if (!ok) return this.giveUp(partition, writer, head.payload);
        writer.queue.splice(0, n);
        for (const h of group) writer.unwritten -= h.payload.batch.messages.length;
        this.backoff.delete(partition);
        for (const wake of writer.progressed.splice(0)) wake();
      }
    } finally {
      writer.flushing = null;
    }
  }

  /**
   * Ends a writer at `payload`, its first unwritten batch: the batches queued behind it were
   * fetched after it, and are dropped with it (their judging, if still going, gives up: they
   * are not wanted any more). While the partition is still ours, the consumer goes back to the
   * batch's first offset, so nothing after it is committed and it is all read and written
   * again, after the partition's backoff.
   */
  private giveUp(partition: number, writer: PartitionWriter, payload: EachBatchPayload): void {
    const owned = this.writers.get(partition) === writer && this.owns(payload);
    if (this.writers.get(partition) === writer) this.writers.delete(partition);
    writer.queue.length = 0;
    writer.unwritten = 0;
    for (const wake of writer.progressed.splice(0)) wake();
    if (!owned) return;
    const { batch } = payload;
    this.consumer.seek({ topic: batch.topic, partition, offset: batch.firstOffset()! });
    const last = this.backoff.get(partition)?.delayMs ?? 0;
    const delayMs = last === 0 ? this.settings.retryInitialMs : Math.min(last * 2, this.settings.retryMaxMs);
    this.backoff.set(partition, { delayMs, until: Date.now() + delayMs });
  }

  /**
   * A group of consecutive batches of one partition, judged and alerted: their disclosures (and
   * alerts, for the API) durable in the store, then the last one's offsets committed. False when
   * either was given up (the partition taken away, a stop, a commit refused): the writer then
   * gives up at the group's first batch (flush, giveUp).
   */
  private async writeAndCommit(group: readonly Raised[]): Promise<boolean> {
    const { payload: last, wanted } = group[group.length - 1]!;
    const { batch } = last;
    const { metrics } = this.options;
    const stored = group.flatMap((h) => h.judged.stored);
    const alerts = group.flatMap((h) => h.judged.alerts.alerts);
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
      }, last, wanted);
      if (!written) return false;
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
    if (!wanted()) return false;
    const next = (BigInt(lastOffset) + 1n).toString();
    const commit = await this.retrying('commit', async () => {
      try {
        await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      } catch (err) {
        throw brokerError(`committing ${batch.topic}/${batch.partition}@${next}`, err);
      }
    }, last, wanted);
    if (!commit) return false;
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
   * and heartbeating meanwhile. Gives up (false, nothing committed) when the batch is not
   * `wanted` any more (its partition taken away, its writer given up) or the detector stops — at once, even with `fn` still running (a write to a
   * store that does not answer is abandoned, not awaited). A non-retryable error fails the
   * detector after a few tries.
   */
  private async retrying(what: 'write' | 'produce' | 'commit', fn: () => Promise<void>, payload: EachBatchPayload, wanted: () => boolean): Promise<boolean> {
    let delay = this.settings.retryInitialMs;
    let refused = 0;
    for (let attempt = 1; ; attempt++) {
      if (!wanted()) return false;
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
        if (!wanted()) return false;
        await sleep(Math.min(1000, until - Date.now()), this.abort.signal);
        await payload.heartbeat().catch(() => undefined);
      }
      delay = Math.min(delay * 2, this.settings.retryMaxMs);
    }
  }
}

/** A batch queued on its partition's writer: being judged and alerted until `ready` settles. */
interface Taken {
  payload: EachBatchPayload;
  /** Still this writer's and this member's: false once either gave it up. */
  wanted: () => boolean;
  /** Judged and alerted (null: given up); settles `outcome`. Never rejects. */
  ready: Promise<Raised | null>;
  /** undefined while it is judged or alerted. */
  outcome: Raised | null | undefined;
}

/** A batch judged and alerted, waiting for its write and commit. */
interface Raised {
  payload: EachBatchPayload;
  wanted: () => boolean;
  judged: JudgedBatch;
  /** Its records sent to the dead-letter topic. */
  rejected: number;
  times: { fetchedAt: number; judgedAt: number; raisedAt: number };
}

/** One partition's batches in offset order: queued, records not yet committed, the loop writing them. */
interface PartitionWriter {
  queue: Taken[];
  /** Records queued (being judged, alerted or written) and not yet committed. */
  unwritten: number;
  flushing: Promise<void> | null;
  /** Woken when a group is committed or the writer is given up (the partition's pause waits on it). */
  progressed: Array<() => void>;
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
