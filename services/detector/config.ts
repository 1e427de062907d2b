// Configuration of the detector service, validated once at start, unknown keys refused,
// then frozen. Times are in milliseconds, sizes in bytes.
import { LeakscopeError } from '../core/errors.js';
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
  /** Largest fetch per partition, bytes: bounds one batch (and one ClickHouse insert). Default 16 MiB. */
  maxBytesPerPartition: number;
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
}

export const DEFAULT_DETECTOR_SETTINGS: Readonly<DetectorSettings> = Object.freeze({
  groupId: 'leakscope-detector',
  once: false,
  partitionsConsumedConcurrently: 4,
  maxBytes: 64 * 1024 * 1024,
  maxBytesPerPartition: 16 * 1024 * 1024,
  maxWaitTimeMs: 250,
  minBytes: 1,
  sessionTimeoutMs: 30_000,
  rebalanceTimeoutMs: 60_000,
  heartbeatIntervalMs: 3000,
  retryInitialMs: 200,
  retryMaxMs: 30_000,
  nonRetryableAttempts: 3,
  spreadSites: DEFAULT_ALERT_CONFIG.spreadSites,
  spreadWindowMs: DEFAULT_ALERT_CONFIG.spreadWindowMs,
  spreadQuietMs: DEFAULT_ALERT_CONFIG.spreadQuietMs,
  caughtUpCheckMs: 500,
});

/** Defaults overlaid by `given`; every value checked; the result frozen. */
export function detectorSettings(given: Partial<DetectorSettings> = {}): Readonly<DetectorSettings> {
  const out: Record<string, unknown> = { ...DEFAULT_DETECTOR_SETTINGS };
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_DETECTOR_SETTINGS)) {
      throw new LeakscopeError('CONFIG_INVALID', `detector: unknown setting "${key}"; expected one of ${Object.keys(DEFAULT_DETECTOR_SETTINGS).join(', ')}`);
    }
    const expected = typeof DEFAULT_DETECTOR_SETTINGS[key as keyof DetectorSettings];
    if (typeof value !== expected) {
      throw new LeakscopeError('CONFIG_INVALID', `detector: ${key} is ${JSON.stringify(value)}; expected a ${expected}`);
    }
    if (expected === 'number' && (!Number.isSafeInteger(value) || (value as number) <= 0)) {
      throw new LeakscopeError('CONFIG_INVALID', `detector: ${key} is ${JSON.stringify(value)}; expected a positive integer`);
    }
    if (key === 'groupId' && (value as string).trim() === '') throw new LeakscopeError('CONFIG_INVALID', 'detector: groupId is empty');
    out[key] = value;
  }
  return Object.freeze(out as unknown as DetectorSettings);
}
