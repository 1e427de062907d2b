// Configuration of the detector service, validated once at start by its schema (every
// problem named, unknown keys refused, defaults from the schema), then frozen. Times are in
// milliseconds, sizes in bytes.
import { Type, type Static } from '@sinclair/typebox';
import { validateConfig } from '../config/index.js';
import { DEFAULT_ALERT_CONFIG } from './alerts.js';

export interface DetectorSettings {
  /** Consumer group of gateway-requests; instances with the same id share the partitions. Default `leakscope-detector`. */
  groupId: string;
  /** Exit once the group has committed everything that was in gateway-requests at start. Default false. */
  once: boolean;
  /** Partitions whose batches are processed at the same time by one instance. Default 4. */
  partitionsConsumedConcurrently: number;
  /** Largest fetch response, bytes. Default 64 MiB. */
  maxBytes: number;
  /** Largest fetch per partition, bytes: bounds one batch. Default 16 MiB. */
  maxBytesPerPartition: number;
  /** Records of one partition judged and alerted but not yet written and committed, past which its next batch waits for the store. Default 100 000. */
  maxUnwrittenRecords: number;
  /** Broker waits up to this long for minBytes before answering a fetch. Default 250 (alerts within seconds). */
  maxWaitTimeMs: number;
  /** Bytes a fetch waits for (up to maxWaitTimeMs): larger batches under load. Default 1. */
  minBytes: number;
  /** Group session timeout. Default 30 000; tests use less. */
  sessionTimeoutMs: number;
  /** Group rebalance timeout. Default 60 000. */
  rebalanceTimeoutMs: number;
  /** Heartbeat interval. Default 3000. */
  heartbeatIntervalMs: number;
  /** First wait before retrying a failed store write or produce; doubles up to retryMaxMs. Default 200. */
  retryInitialMs: number;
  /** Longest wait between retries. Default 30 000. */
  retryMaxMs: number;
  /** A write refused as non-retryable is tried this many times before the detector stops. Default 3. */
  nonRetryableAttempts: number;
  /** Sites with a first violation in one window that raise a spread (incident) alert. Default 20. */
  spreadSites: number;
  /** Window of request time for spread alerts. Default 600 000. */
  spreadWindowMs: number;
  /** An open incident resolves after this much request time with no new violating site. Default 3 600 000. */
  spreadQuietMs: number;
  /** How often --once compares committed offsets with the end offsets. Default 500. */
  caughtUpCheckMs: number;
  /** stop() (SIGTERM) returns within this long whatever the state of Kafka and the store; what was not written is not committed. Default 10 000. */
  drainTimeoutMs: number;
}

// The schema is the settings' one definition of type, range and default; the interface above
// documents each, and the assignment below keeps the two in step at compile time.
const positive = (defaultValue: number, description: string) => Type.Integer({ minimum: 1, default: defaultValue, description });

export const DetectorSettingsSchema = Type.Object({
  groupId: Type.String({ pattern: '\\S', expected: 'a consumer group id (not blank)', default: 'leakscope-detector' }),
  once: Type.Boolean({ default: false }),
  partitionsConsumedConcurrently: positive(4, 'partitions processed at once'),
  maxBytes: positive(64 * 1024 * 1024, 'largest fetch response, bytes'),
  maxBytesPerPartition: positive(16 * 1024 * 1024, 'largest fetch per partition, bytes'),
  maxUnwrittenRecords: positive(100_000, 'records of a partition alerted but not yet written, past which it waits for the store'),
  maxWaitTimeMs: positive(250, 'fetch wait, ms'),
  minBytes: positive(1, 'bytes a fetch waits for'),
  sessionTimeoutMs: positive(30_000, 'group session timeout, ms'),
  rebalanceTimeoutMs: positive(60_000, 'group rebalance timeout, ms'),
  heartbeatIntervalMs: positive(3000, 'heartbeat interval, ms'),
  retryInitialMs: positive(200, 'first retry wait, ms'),
  retryMaxMs: positive(30_000, 'longest retry wait, ms'),
  nonRetryableAttempts: positive(3, 'tries of a write refused as non-retryable'),
  spreadSites: positive(DEFAULT_ALERT_CONFIG.spreadSites, 'first-violation sites that raise a spread alert'),
  spreadWindowMs: positive(DEFAULT_ALERT_CONFIG.spreadWindowMs, 'spread window of request time, ms'),
  spreadQuietMs: positive(DEFAULT_ALERT_CONFIG.spreadQuietMs, 'request time with no new site after which an incident resolves, ms'),
  caughtUpCheckMs: positive(500, 'how often --once checks it has caught up, ms'),
  drainTimeoutMs: positive(10_000, 'stop() returns within this long whatever Kafka and the store do, ms'),
}, { additionalProperties: false });

const schemaMatchesInterface: DetectorSettings = {} as Static<typeof DetectorSettingsSchema>;
void schemaMatchesInterface;

/** Defaults overlaid by `given` (undefined values are ignored); every problem named; the result frozen. */
export function detectorSettings(given: Partial<DetectorSettings> = {}): Readonly<DetectorSettings> {
  const value = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return validateConfig(DetectorSettingsSchema, value, { where: 'detector' });
}

export const DEFAULT_DETECTOR_SETTINGS: Readonly<DetectorSettings> = detectorSettings();
