// Judging one batch of gateway-requests records, with no Kafka in it: decode (Avro
// single-object encoding) → detect() against one registry snapshot → protect the subscriber
// (here or in a judging thread, judge-thread.ts) → which alerts the violations raise. Records
// in, plain results out; the detector's Kafka loop (detector.ts) fetches the records, writes
// the results and commits.
import { LeakscopeError, isLeakscopeError } from '../core/errors.js';
import { detect } from '../core/detect/index.js';
import type { Disclosure, RegistrySnapshot, Verdict } from '../core/types.js';
import { GatewayRequestReader, type AvroCodec } from '../avro/index.js';
import type { Protector, StoredDisclosure } from '../store/index.js';
import type { ActiveRegistry } from './registry-state/index.js';
import type { AlertTracker, PendingAlerts } from './alerts.js';
import type { JudgeThread } from './judge-thread.js';

/** One record of a batch, as the broker handed it over. */
export interface BatchRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

/** A record that could not be judged: it goes to the dead-letter topic with its reason. */
export interface RejectedRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  reason: string;
  /** `topic/partition@offset`. */
  source: string;
}

/** One batch's verdicts, before anything is written. */
export interface JudgedBatch {
  active: ActiveRegistry;
  stored: StoredDisclosure[];
  /** The stored disclosures that are not authorised. */
  violations: StoredDisclosure[];
  rejected: RejectedRecord[];
  verdicts: Partial<Record<Verdict, number>>;
  /** The alerts the violations raise; commit() once they are sent, abandon() if not. */
  alerts: PendingAlerts;
}

export interface JudgeContext {
  codec: AvroCodec;
  protector: Protector;
  /** The registry that judges the whole batch (read once: one snapshot per batch). */
  active: ActiveRegistry;
  alerts: AlertTracker;
  /** Time stamped on alerts (detected_at). */
  now: () => number;
  /** Judges in a thread of its own when given and usable. */
  thread?: JudgeThread | null;
}

export interface JudgeOptions {
  /** `topic/partition`, for rejected records' source. */
  source: string;
  /** Records judged between two turns of the event loop; default YIELD_EVERY. */
  yieldEvery?: number;
  /** Asked at every yield: false abandons the batch (null), e.g. its partition was taken away. */
  stillWanted?: () => boolean;
}

/** Records judged between two turns of the event loop while a batch is judged. */
export const YIELD_EVERY = 4096;

const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What judging a batch's values gives, before the records are named and alerts decided. */
export interface JudgedValues {
  stored: StoredDisclosure[];
  /** Records that could not be judged: their index in the batch and why. */
  rejected: Array<{ index: number; reason: string }>;
  verdicts: Partial<Record<Verdict, number>>;
}

/** One reader per codec: records of the current schema are read without avsc (gateway-request-reader.ts). */
const readers = new WeakMap<AvroCodec, GatewayRequestReader>();

function readerOf(codec: AvroCodec): GatewayRequestReader {
  let reader = readers.get(codec);
  if (reader === undefined) readers.set(codec, (reader = new GatewayRequestReader(codec)));
  return reader;
}

/**
 * Decode → detect → protect for each value, in this thread: what judgeBatch does here and a
 * judging thread (judge-thread.ts) does there. Never throws for a record: one that does not
 * decode or cannot be judged is listed with its reason. Null when `stillWanted` said no at a yield.
 */
export async function judgeValues(
  values: ReadonlyArray<Buffer | null>,
  ctx: { codec: AvroCodec; protector: Protector; snapshot: RegistrySnapshot },
  options: { yieldEvery?: number; stillWanted?: () => boolean } = {},
): Promise<JudgedValues | null> {
  const { protector, snapshot } = ctx;
  const reader = readerOf(ctx.codec);
  const yieldEvery = options.yieldEvery ?? YIELD_EVERY;
  const stored: StoredDisclosure[] = [];
  const rejected: JudgedValues['rejected'] = [];
  const verdicts: Partial<Record<Verdict, number>> = {};
  for (let i = 0; i < values.length; i++) {
    if (i > 0 && i % yieldEvery === 0) {
      await yieldToIo();
      if (options.stillWanted && !options.stillWanted()) return null;
    }
    const value = values[i] ?? null;
    let disclosure: Disclosure | null;
    try {
      if (value === null) throw new LeakscopeError('SCHEMA_UNKNOWN', 'empty message (no value)');
      disclosure = detect(reader.read(value), snapshot);
    } catch (err) {
      const reason = isLeakscopeError(err) ? err.message : `cannot judge the request: ${(err as Error)?.message ?? String(err)}`;
      rejected.push({ index: i, reason });
      continue;
    }
    if (disclosure === null) continue;
    verdicts[disclosure.verdict] = (verdicts[disclosure.verdict] ?? 0) + 1;
    stored.push(protector.toStored(disclosure));
  }
  return { stored, rejected, verdicts };
}

/**
 * The share of a batch judged in this thread while the judging thread judges the rest. This
 * thread also fetches, encodes the rows and writes them, so it takes the smaller part; with two
 * cores both finish about together (README, "Threads" of the detector).
 */
export const HERE_SHARE = 0.25;
/** Batches smaller than this go to the judging thread whole: splitting them gains nothing. */
export const SPLIT_MIN = 64;

/**
 * Judges every record of a batch: when the context has a judging thread, the first part there
 * and the last HERE_SHARE here at the same time (this thread stays free for fetches and inserts
 * between its yields), else all here. A record that does not decode or cannot be judged is
 * rejected with its reason (never thrown). Judging here yields to I/O every `yieldEvery`
 * records: a fetch can hand over 100 000 records per partition, and judging them in one go
 * would hold the event loop for a second, and with it the answers of the inserts in flight.
 * The result is the same wherever each record was judged, in the batch's order. Null when
 * `stillWanted` said no.
 */
export async function judgeBatch(records: readonly BatchRecord[], ctx: JudgeContext, options: JudgeOptions): Promise<JudgedBatch | null> {
  const { active } = ctx;
  const values = records.map((m) => m.value);
  const local = { codec: ctx.codec, protector: ctx.protector, snapshot: active.snapshot };
  let judged: JudgedValues | null;
  if (ctx.thread?.usable) {
    const cut = values.length >= SPLIT_MIN ? Math.ceil(values.length * (1 - HERE_SHARE)) : values.length;
    const there = ctx.thread.judge(values.slice(0, cut), active).catch(() => null); // the thread failed: judged here below
    const here = cut < values.length ? await judgeValues(values.slice(cut), local, options) : EMPTY;
    const fromThread = await there;
    if (here === null || (options.stillWanted && !options.stillWanted())) return null;
    const first = fromThread ?? (await judgeValues(values.slice(0, cut), local, options));
    judged = first === null ? null : joined(first, here, cut);
  } else {
    judged = await judgeValues(values, local, options);
  }
  if (judged === null) return null;
  const { stored, verdicts } = judged;
  const rejected: RejectedRecord[] = judged.rejected.map(({ index, reason }) => {
    const m = records[index]!;
    return { offset: m.offset, key: m.key, value: m.value, reason, source: `${options.source}@${m.offset}` };
  });
  // Violations are read off the stored rows: the judging thread sends back no Disclosure with its number in clear.
  const violations = stored.filter((d) => d.verdict !== 'authorized');
  // All disclosures: authorised ones move the incident's request-time watermark on (alerts.ts).
  const alerts = ctx.alerts.consider(stored, ctx.now());
  return { active, stored, violations, rejected, verdicts, alerts };
}

const EMPTY: JudgedValues = { stored: [], rejected: [], verdicts: {} };

/** The judgement of records [0, cut) and of [cut, …) as one, in order. */
function joined(first: JudgedValues, second: JudgedValues, cut: number): JudgedValues {
  if (second === EMPTY) return first;
  const verdicts: Partial<Record<Verdict, number>> = { ...first.verdicts };
  for (const [verdict, count] of Object.entries(second.verdicts) as Array<[Verdict, number]>) verdicts[verdict] = (verdicts[verdict] ?? 0) + count;
  return {
    stored: first.stored.concat(second.stored),
    rejected: first.rejected.concat(second.rejected.map((r) => ({ index: r.index + cut, reason: r.reason }))),
    verdicts,
  };
}
