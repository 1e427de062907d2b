// The detector service (`leakscope detect`): Kafka in, ClickHouse and leak-alerts out.
export { Detector } from './detector.js';
export type { DetectorEnd, DetectorOptions, DetectorTotals } from './detector.js';
export { DEFAULT_DETECTOR_SETTINGS, detectorSettings } from './config.js';
export type { DetectorSettings } from './config.js';
export { AlertTracker, DEFAULT_ALERT_CONFIG, alertId, alertSubject } from './alerts.js';
export type { AlertConfig, AlertSource, PendingAlerts } from './alerts.js';
