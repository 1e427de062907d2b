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
  /** Records in a share when the batch is shared with the judging thread; default SHARE_RECORDS. */
  shareRecords?: number;
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
 * Records in one share of a batch. A batch is cut into shares, and the judging thread and this
 * thread each take the next share whenever they are free: the judging thread two at a time (so
 * that it never waits for a round trip), this thread one at a time between its fetches, inserts
 * and commits. Whichever thread has the CPU judges more, and both finish together (README,
 * "Threads" of the detector).
 */
export const SHARE_RECORDS = 2048;

/**
 * Judges every record of a batch: with a usable judging thread, shared between it and this
 * thread (SHARE_RECORDS), else all here. A record that does not decode or cannot be judged is
 * rejected with its reason (never thrown). Judging here yields to I/O between shares (and every
 * `yieldEvery` records when alone): a fetch can hand over 100 000 records per partition, and
 * judging them in one go would hold the event loop for a second, and with it the answers of the
 * inserts in flight. The result is the same wherever each record was judged, in the batch's
 * order. Null when `stillWanted` said no.
 */
export async function judgeBatch(records: readonly BatchRecord[], ctx: JudgeContext, options: JudgeOptions): Promise<JudgedBatch | null> {
  const { active } = ctx;
  const values = records.map((m) => m.value);
  const local = { codec: ctx.codec, protector: ctx.protector, snapshot: active.snapshot };
  const judged = ctx.thread?.usable
    ? await judgeShared(values, ctx.thread, active, local, options)
    : await judgeValues(values, local, options);
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

/** The batch's shares judged by whichever thread is free (SHARE_RECORDS); a share the thread fails is judged here. */
async function judgeShared(
  values: ReadonlyArray<Buffer | null>,
  thread: JudgeThread,
  active: ActiveRegistry,
  local: Parameters<typeof judgeValues>[1],
  options: JudgeOptions,
): Promise<JudgedValues | null> {
  const size = options.shareRecords ?? SHARE_RECORDS;
  const count = Math.ceil(values.length / size);
  const shares: JudgedValues[] = new Array(count);
  const alone = { yieldEvery: Number.MAX_SAFE_INTEGER };
  let next = 0;
  let abandoned = false;
  const take = (): number => (abandoned || next >= count ? -1 : next++);
  const part = (i: number) => values.slice(i * size, (i + 1) * size);
  const there = async (): Promise<void> => {
    for (let i = take(); i >= 0; i = take()) {
      const fromThread = await thread.judge(part(i), active).catch(() => null); // the thread failed: judged here
      shares[i] = fromThread ?? (await judgeValues(part(i), local, alone))!;
    }
  };
  const here = async (): Promise<void> => {
    for (let i = take(); i >= 0; i = take()) {
      shares[i] = (await judgeValues(part(i), local, alone))!;
      await yieldToIo();
      if (options.stillWanted && !options.stillWanted()) abandoned = true;
    }
  };
  await Promise.all([there(), there(), here()]);
  if (abandoned || (options.stillWanted && !options.stillWanted())) return null;
  return joined(shares, size);
}

/** The judgements of consecutive shares of `size` records as one, in order. */
function joined(shares: readonly JudgedValues[], size: number): JudgedValues {
  if (shares.length === 1) return shares[0]!;
  const verdicts: Partial<Record<Verdict, number>> = {};
  const stored: StoredDisclosure[] = [];
  const rejected: JudgedValues['rejected'] = [];
  shares.forEach((share, i) => {
    for (const [verdict, count] of Object.entries(share.verdicts) as Array<[Verdict, number]>) verdicts[verdict] = (verdicts[verdict] ?? 0) + count;
    for (const d of share.stored) stored.push(d);
    for (const r of share.rejected) rejected.push({ index: r.index + i * size, reason: r.reason });
  });
  return { stored, rejected, verdicts };
}
