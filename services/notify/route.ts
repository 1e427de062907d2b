// One route's delivery loop: grouping, retries, dead-lettering. Alerts are submitted one by
// one; each submit resolves when the alert is delivered or dead-lettered on this route (and
// rejects only when even the dead-letter topic cannot take it, so nothing is committed).
//
// Grouping (no storm): an alert reaching an idle route waits groupWaitMs (default 0: at once);
// alerts arriving within groupIntervalMs of the route's last delivery wait until that interval
// has passed and go out together, the incident first. Retries: exponential backoff with
// "equal jitter" (half the step fixed, half random, so a retry never comes back at once),
// honouring Retry-After, until maxAttempts or the retry budget is spent: then the DLQ.
import type { AvroLeakAlert } from '../avro/index.js';
import type { Logger } from '../observability/index.js';
import type { RouteConfig } from './config.js';
import { deliveryOrder, renderDelivery } from './formats.js';
import type { AttemptOutcome, Post } from './http.js';
import type { NotifyMetrics } from './metrics.js';

/** When a route that last delivered at `lastDeliveryAt` sends an alert arriving at `now`: the grouping rule. */
export function nextDeliveryAt(now: number, lastDeliveryAt: number, route: Pick<RouteConfig, 'groupIntervalMs' | 'groupWaitMs'>): number {
  return now - lastDeliveryAt >= route.groupIntervalMs ? now + route.groupWaitMs : lastDeliveryAt + route.groupIntervalMs;
}

/**
 * The deliveries a route makes for alerts arriving at `arrivals` (ms, ascending) if each
 * delivery took no time: their times and sizes. What `npm start` shows for a live incident.
 */
export function plannedDeliveries(arrivals: readonly number[], route: Pick<RouteConfig, 'groupIntervalMs' | 'groupWaitMs' | 'maxAlertsPerDelivery'>): Array<{ at: number; alerts: number }> {
  const out: Array<{ at: number; alerts: number }> = [];
  let last = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < arrivals.length;) {
    const at = nextDeliveryAt(arrivals[i]!, last, route);
    let n = 0;
    while (i < arrivals.length && arrivals[i]! <= at && n < route.maxAlertsPerDelivery) { i++; n++; }
    out.push({ at, alerts: n });
    last = at;
  }
  return out;
}

export interface DeadLetter {
  (alerts: readonly AvroLeakAlert[], route: string, reason: string, attempts: number): Promise<void>;
}

export interface RouteDeps {
  post: Post;
  deadLetter: DeadLetter;
  metrics: NotifyMetrics;
  logger: Logger;
  /** Clock, ms; default Date.now. */
  now?: () => number;
  /** Random in [0, 1); default Math.random. */
  random?: () => number;
}

interface Queued {
  alert: AvroLeakAlert;
  arrivedAt: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface DeliveryRecord {
  alerts: number;
  attempts: number;
  outcome: 'delivered' | 'dead_lettered';
}

export class RouteWorker {
  private queue: Queued[] = [];
  private inFlight: Queued[] = [];
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private lastDeliveryAt = Number.NEGATIVE_INFINITY;
  private readonly abort = new AbortController();
  private readonly now: () => number;
  private readonly random: () => number;
  /** Deliveries made (for /healthz and tests). */
  readonly deliveries: DeliveryRecord[] = [];

  constructor(readonly route: Readonly<RouteConfig>, private readonly deps: RouteDeps) {
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
  }

  accepts(alert: AvroLeakAlert): boolean {
    return this.route.kinds.has(alert.kind);
  }

  /** Arrival time of the oldest alert not yet settled here, or null. */
  oldestPending(): number | null {
    const oldest = Math.min(this.inFlight[0]?.arrivedAt ?? Infinity, this.queue[0]?.arrivedAt ?? Infinity);
    return oldest === Infinity ? null : oldest;
  }

  get pending(): number {
    return this.queue.length + this.inFlight.length;
  }

  submit(alert: AvroLeakAlert): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ alert, arrivedAt: this.now(), resolve, reject });
      this.schedule();
    });
  }

  /** Stops: retries end at once; unsettled alerts stay uncommitted (a restart delivers them). */
  stop(): void {
    this.abort.abort();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const err = new Error(`route ${this.route.name} stopped`);
    for (const q of this.queue.splice(0)) q.reject(err);
  }

  private schedule(): void {
    if (this.busy || this.timer !== null || this.queue.length === 0 || this.abort.signal.aborted) return;
    const now = this.now();
    const at = nextDeliveryAt(now, this.lastDeliveryAt, this.route);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, Math.max(0, at - now));
  }

  private async flush(): Promise<void> {
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    this.inFlight = this.queue.splice(0, this.route.maxAlertsPerDelivery);
    const group = this.inFlight;
    try {
      const settled = await this.deliver(group.map((q) => q.alert));
      const done = this.now();
      for (const q of group) {
        if (settled === 'delivered') this.deps.metrics.deliverySeconds.observe({ route: this.route.name }, (done - q.arrivedAt) / 1000);
        q.resolve();
      }
      this.deps.metrics.deliveries.inc({ route: this.route.name, outcome: settled }, group.length);
    } catch (err) {
      for (const q of group) q.reject(err as Error);
    } finally {
      this.inFlight = [];
      this.lastDeliveryAt = this.now();
      this.busy = false;
      this.schedule();
    }
  }

  /** Delivers one group with retries; dead-letters it when refused or out of budget. */
  private async deliver(alerts: AvroLeakAlert[]): Promise<'delivered' | 'dead_lettered'> {
    const { route } = this;
    const ordered = deliveryOrder(alerts);
    const log = this.deps.logger;
    const started = this.now();
    let step = route.retry.initialMs;
    let last: AttemptOutcome | null = null;
    for (let attempt = 1; ; attempt++) {
      if (this.abort.signal.aborted) throw new Error(`route ${route.name} stopped`);
      const request = renderDelivery(route, ordered, Math.floor(this.now() / 1000));
      last = await this.deps.post(request, route.timeoutMs, this.abort.signal);
      if (this.abort.signal.aborted) throw new Error(`route ${route.name} stopped`);
      if (last.kind === 'delivered') {
        log.info({ route: route.name, alerts: ordered.length, attempts: attempt, status: last.status, first_kind: ordered[0]!.kind }, 'alerts delivered');
        this.deliveries.push({ alerts: ordered.length, attempts: attempt, outcome: 'delivered' });
        return 'delivered';
      }
      const wait = Math.min(route.retry.maxMs, Math.max(step / 2 + this.random() * (step / 2), last.retryAfterMs ?? 0));
      const outOfBudget = attempt >= route.retry.maxAttempts || this.now() + wait - started > route.retry.budgetMs;
      if (!last.retry || outOfBudget) {
        const reason = last.retry
          ? `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'} in ${this.now() - started} ms: ${last.reason}`
          : `refused: ${last.reason}`;
        log.error({ route: route.name, alerts: ordered.length, attempts: attempt, reason }, 'alerts dead-lettered');
        await this.deps.deadLetter(ordered, route.name, reason, attempt);
        this.deliveries.push({ alerts: ordered.length, attempts: attempt, outcome: 'dead_lettered' });
        return 'dead_lettered';
      }
      this.deps.metrics.retries.inc({ route: route.name });
      log.warn({ route: route.name, alerts: ordered.length, attempt, delay_ms: Math.round(wait), reason: last.reason }, 'delivery failed; retrying');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        this.abort.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
      });
      step = Math.min(step * 2, route.retry.maxMs);
    }
  }
}
