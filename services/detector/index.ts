// The detector service (`leakscope detect`): Kafka in, ClickHouse and leak-alerts out.
export { Detector } from './detector.js';
export type { BatchTimes, DetectorEnd, DetectorOptions, DetectorTotals } from './detector.js';
export { YIELD_EVERY, judgeBatch } from './judge-batch.js';
export type { BatchRecord, JudgeContext, JudgeOptions, JudgedBatch, RejectedRecord } from './judge-batch.js';
export { DEFAULT_DETECTOR_SETTINGS, detectorSettings } from './config.js';
export type { DetectorSettings } from './config.js';
export { AlertTracker, DEFAULT_ALERT_CONFIG, alertId, alertSubject } from './alerts.js';
export type { AlertConfig, AlertSource, PendingAlerts } from './alerts.js';
