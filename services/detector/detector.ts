// The detector service: gateway-requests (consumer group) → decode → detect() against the
// registry snapshot → Protector → DisclosureStore.write → commit. The partner registry is read
// from the beginning of its compacted topic before the first request is judged, and followed
// while running; a new complete, valid version replaces the snapshot between batches.
//
// Delivery: a batch's offsets are committed only after its disclosures are durable in the
// store, its poison messages are in the dead-letter topic and its alerts in leak-alerts. A
// failed write is retried with exponential backoff while the batch is held (holding it is
// the pause: kafkajs fetches nothing more for a partition whose batch is in process), and
// nothing is committed until it succeeds. A crash or a rebalance at any point replays the
// batch; disclosure ids are deterministic, so the store keeps it once.
import type { Admin, Consumer, EachBatchPayload, Kafka as KafkaClient, Message } from 'kafkajs';
import { LeakscopeError, isLeakscopeError } from '../core/errors.js';
import { detect } from '../core/detect/index.js';
import type { Disclosure, Verdict } from '../core/types.js';
import type { PrivacyKeys } from '../core/privacy/index.js';
import { AvroCodec, fromAvroGatewayRequest } from '../avro/index.js';
import { Protector, type DisclosureStore, type StoredDisclosure } from '../store/index.js';
import { keyCheckOf } from '../keys/index.js';
import { RegistryState, type ActiveRegistry } from './registry-state/index.js';
import { TopicFollower, brokerError, createKafkaClient, ensureTopics, fetchHighWatermarks, type FollowedMessage, type TopicNames } from '../kafka/index.js';
import { StreamProducer, poisonMessage } from '../kafka/index.js';
import { componentLogger, redactNumbers, type Logger, type StreamMetrics } from '../observability/index.js';
import { AlertTracker } from './alerts.js';
import { detectorSettings, type DetectorSettings } from './config.js';

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
}

export interface DetectorTotals {
  records: number;
  disclosures: number;
  violations: number;
  poison: number;
  batches: number;
  alerts: number;
}

/** One batch's verdicts, before anything is written. */
interface Judged {
  active: ActiveRegistry;
  stored: StoredDisclosure[];
  violations: Disclosure[];
  dlq: Message[];
  verdicts: Partial<Record<Verdict, number>>;
}

/** Records judged between two turns of the event loop while a batch is judged. */
const YIELD_EVERY = 4096;

const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

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
   * consuming. Resolves once consuming has started; `done()` resolves when the detector ends.
   */
  async start(): Promise<void> {
    const { topics } = this.options;
    try {
      await this.admin.connect();
      await ensureTopics(this.admin, topics);
      await this.producer.connect();
    } catch (err) {
      throw brokerError('starting the detector', err);
    }

    this.follower = new TopicFollower(this.kafka, {
      topic: topics.registry,
      groupPrefix: `${this.settings.groupId}-registry`,
      logger: this.log,
      onMessages: (messages) => this.applyRegistry(messages),
    });
    await this.follower.start();
    await this.follower.caughtUp;
    const active = this.registryState.current;
    if (active === null) {
      throw new LeakscopeError('CONFIG_INVALID',
        `no valid partner registry on topic ${topics.registry}: publish one first with leakscope registry publish FILE --brokers …`);
    }
    await this.checkStoreMeta(active);
    await this.seedAlerts();

    const endOffsets = this.settings.once ? await fetchHighWatermarks(this.admin, topics.requests) : null;
    // A rebalance may give any partition to another member: until the group is joined again,
    // nothing is judged or committed (what was written is read again, and stored once).
    this.consumer.on(this.consumer.events.REBALANCING, () => { this.assigned.clear(); });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.assigned.clear();
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
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({ topics: [topics.requests], fromBeginning: true });
      await this.consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently,
        eachBatch: (payload) => this.processBatch(payload),
      });
    } catch (err) {
      throw brokerError(`consuming ${topics.requests}`, err);
    }
    this.started = true;
    this.log.info({ registry_version: active.registry.version, once: this.settings.once, known_sites: this.alerts.knownSites }, 'detector started');
    if (endOffsets !== null) this.watchCaughtUp(endOffsets);
  }

  /** Resolves when the detector ends: stopped (signal, --once) or failed. */
  done(): Promise<DetectorEnd> {
    return this.ended;
  }

  /** Stops consuming (the batch in process finishes or is abandoned uncommitted) and disconnects. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.onceTimer) clearTimeout(this.onceTimer);
    await this.consumer.disconnect().catch(() => undefined);
    await this.follower?.stop();
    await this.producer.disconnect();
    await this.admin.disconnect().catch(() => undefined);
    this.finish({ kind: 'stopped' });
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
    if (meta.region !== null && meta.region !== active.registry.region) {
      throw new LeakscopeError('REGISTRY_INVALID',
        `the store holds numbers normalised with region ${meta.region}, and the published registry says region ${active.registry.region}: ` +
        'the same subscriber would be stored under two hashes; publish a registry with the store\'s region, or use a new ClickHouse database');
    }
    if (meta.keyCheck === null || meta.region === null) await this.options.store.writeMeta({ region: active.registry.region, keyCheck });
  }

  /** Sites that already have a violation in the store raise no first-disclosure alert again. */
  private async seedAlerts(): Promise<void> {
    const all = await this.options.store.report({ from: 0, to: 8.64e15 });
    this.alerts.seed(all.sites.map((s) => s.site));
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
   * Judges a batch's records: decode, detect against one registry snapshot, protect. Batches
   * of several partitions take turns (one judged at a time, in arrival order) and yield to I/O
   * every YIELD_EVERY records: the first batch's insert then runs in ClickHouse while the next
   * is judged. Interleaving them instead would finish all at once and leave ClickHouse idle
   * until then. Null when the partition was taken away (or the detector stops) meanwhile.
   */
  /**
   * Whether this member still owns the batch's partition. kafkajs' isStale() only says a seek
   * is pending; revocation is known from the group events (assigned is cleared on REBALANCING
   * and refilled on GROUP_JOIN).
   */
  private owns(payload: EachBatchPayload): boolean {
    return payload.isRunning() && !payload.isStale() && this.assigned.has(payload.batch.partition);
  }

  private judge(payload: EachBatchPayload): Promise<Judged | null> {
    const turn = this.judging.then(() => this.judgeNow(payload));
    this.judging = turn.then(() => undefined, () => undefined);
    return turn;
  }

  private async judgeNow(payload: EachBatchPayload): Promise<Judged | null> {
    const { batch } = payload;
    if (!this.owns(payload)) return null;
    const { topics } = this.options;
    const active = this.registryState.current!; // read once per batch: one snapshot judges a whole batch
    const snapshot = active.snapshot;
    const judged: Judged = { active, stored: [], violations: [], dlq: [], verdicts: {} };
    const { stored, violations, dlq, verdicts } = judged;
    const messages = batch.messages;
    for (let i = 0; i < messages.length; i++) {
      // A fetch can hand over 100 000 records per partition; judging them in one go would hold
      // the event loop for a second, and with it the answers of the inserts in flight.
      if (i > 0 && i % YIELD_EVERY === 0) {
        await yieldToIo();
        // Partition taken away (or the detector stopping) meanwhile: its new owner reads the batch again.
        if (!this.owns(payload)) return null;
      }
      const m = messages[i]!;
      let disclosure: Disclosure | null;
      try {
        if (m.value === null) throw new LeakscopeError('SCHEMA_UNKNOWN', 'empty message (no value)');
        disclosure = detect(fromAvroGatewayRequest(this.codec.decodeAs('GatewayRequest', m.value)), snapshot);
      } catch (err) {
        const reason = isLeakscopeError(err) ? err.message : `cannot judge the request: ${(err as Error)?.message ?? String(err)}`;
        const source = `${batch.topic}/${batch.partition}@${m.offset}`;
        dlq.push(poisonMessage(m.value, m.key, reason, source));
        this.log.warn({ source, reason: redactNumbers(reason), topic: topics.dlq }, 'record rejected');
        continue;
      }
      if (disclosure === null) continue;
      verdicts[disclosure.verdict] = (verdicts[disclosure.verdict] ?? 0) + 1;
      if (disclosure.verdict !== 'authorized') violations.push(disclosure);
      stored.push(this.protector.toStored(disclosure));
    }
    return judged;
  }

  private async processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat } = payload;
    if (batch.isEmpty()) return;
    const { topics, metrics } = this.options;
    const judged = await this.judge(payload);
    if (judged === null) return;
    const { active, stored, violations, dlq, verdicts } = judged;
    const messages = batch.messages;

    const pending = this.alerts.consider(stored, (this.options.now ?? Date.now)());
    const outgoing = [
      { topic: topics.dlq, messages: dlq },
      { topic: topics.alerts, messages: pending.alerts.map((a) => this.producer.alertMessage(a)) },
    ];
    // 1. Poison messages and alerts, acknowledged (alerts before the write: see alerts.ts).
    if (dlq.length > 0 || pending.alerts.length > 0) {
      let sent = false;
      try {
        sent = await this.retrying('produce', () => this.producer.send(outgoing), payload);
      } finally {
        if (!sent) pending.abandon();
      }
      if (!sent) return;
      pending.commit();
      for (const a of pending.alerts) {
        metrics.alerts.inc({ kind: a.kind });
        this.alertLog.warn({ kind: a.kind, site: a.site, host: a.host, verdict: a.verdict, sites: a.sites.length, count: a.count, alert_id: a.id }, 'alert raised');
      }
      this.totals.alerts += pending.alerts.length;
    }
    // 2. Disclosures (and the batch's alerts, for the API), durable in the store.
    if (stored.length > 0 || pending.alerts.length > 0) {
      const written = await this.retrying('write', async () => {
        const t0 = process.hrtime.bigint();
        try {
          // Two inserts, sent together: the alerts' row must not add an insert's latency to the batch.
          await Promise.all([this.options.store.write(stored), this.options.store.writeAlerts(pending.alerts)]);
          metrics.insertSeconds.observe({ outcome: 'ok' }, Number(process.hrtime.bigint() - t0) / 1e9);
        } catch (err) {
          metrics.insertSeconds.observe({ outcome: 'failed' }, Number(process.hrtime.bigint() - t0) / 1e9);
          throw err;
        }
      }, payload);
      if (!written) return;
    }
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
    // the new owner reads it again and the store keeps it once.
    if (!this.owns(payload)) return;
    payload.resolveOffset(lastOffset);
    try {
      await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(lastOffset) + 1n).toString() }]);
    } catch (err) {
      this.log.warn({ partition: batch.partition, offset: lastOffset, err: (err as Error).message }, 'commit failed; the batch will be read again');
      return;
    }
    await heartbeat().catch(() => undefined);

    const n = messages.length;
    this.totals.records += n;
    this.totals.disclosures += stored.length;
    this.totals.violations += violations.length;
    this.totals.poison += dlq.length;
    this.totals.batches++;
    metrics.recordsIn.inc({ source: 'kafka' }, n);
    metrics.batchSize.observe({ source: 'kafka' }, n);
    if (dlq.length > 0) metrics.rejects.inc({ source: 'kafka' }, dlq.length);
    for (const [verdict, count] of Object.entries(verdicts)) metrics.disclosures.inc({ verdict }, count);
    metrics.consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(batch.offsetLag()));
    this.log.info({ partition: batch.partition, first_offset: batch.firstOffset(), last_offset: lastOffset, records: n, disclosures: stored.length, violations: violations.length, rejected: dlq.length, registry_version: active.registry.version }, 'batch written');
  }

  /**
   * Runs `fn` until it succeeds, waiting 200 ms, 400 ms, … up to retryMaxMs between attempts
   * and heartbeating meanwhile. Gives up (false, nothing committed) when the partition is
   * taken away or the detector stops; a non-retryable error fails the detector after a few tries.
   */
  private async retrying(what: 'write' | 'produce', fn: () => Promise<void>, payload: EachBatchPayload): Promise<boolean> {
    let delay = this.settings.retryInitialMs;
    let refused = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        await fn();
        return true;
      } catch (err) {
        const e = isLeakscopeError(err) ? err : new LeakscopeError(what === 'write' ? 'STORE_FAILED' : 'BROKER_FAILED', String((err as Error)?.message ?? err), { cause: err, retryable: true });
        if (!e.retryable && ++refused >= this.settings.nonRetryableAttempts) {
          this.fail(e);
          throw e;
        }
        this.options.metrics.insertRetries.inc();
        this.log.warn({ what, attempt, delay_ms: delay, partition: payload.batch.partition, err: e.message, retryable: e.retryable }, `${what} failed; retrying`);
      }
      const until = Date.now() + delay;
      while (Date.now() < until) {
        if (this.stopping || !this.owns(payload)) return false;
        await new Promise((r) => setTimeout(r, Math.min(1000, until - Date.now())));
        await payload.heartbeat().catch(() => undefined);
      }
      delay = Math.min(delay * 2, this.settings.retryMaxMs);
    }
  }
}

