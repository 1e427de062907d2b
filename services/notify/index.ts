// Alert delivery (`leakscope notify`): notify.yaml, the three wire formats, the route loop
// (grouping, retries, DLQ) and the Kafka service around them. See docs/notify.md.
export { ALERT_KINDS, ROUTE_FORMATS, loadNotifyConfig, notifyConfig } from './config.js';
export type { NotifyConfig, RetrySettings, RouteConfig, RouteFormat } from './config.js';
export { SIGNATURE_HEADER, TIMESTAMP_HEADER, alertmanagerAlert, cloudEvent, deliveryOrder, renderDelivery, sign, verifySignature } from './formats.js';
export type { OutgoingRequest } from './formats.js';
export { postWithFetch, retryAfterMs } from './http.js';
export type { AttemptOutcome, Post } from './http.js';
export { createNotifyMetrics } from './metrics.js';
export type { NotifyMetrics } from './metrics.js';
export { RouteWorker, nextDeliveryAt, plannedDeliveries } from './route.js';
export type { DeadLetter, DeliveryRecord, RouteDeps } from './route.js';
export { ALERT_DLQ_HEADERS, Notifier, alertsDlqTopic } from './notifier.js';
export type { NotifierEnd, NotifierOptions, NotifierTotals } from './notifier.js';
