// Bounded retries of broker calls. Whether a failure may pass when tried again is data on the
// error (LeakscopeError.retryable, set by brokerError from kafkajs' own classification), never
// a match on its message: a leader not elected yet or a broker restarting is retried a few
// times with backoff; a refused request (bad topic name, authorisation) fails at once.
import { LeakscopeError } from '../core/errors.js';
import { brokerError } from './client.js';

export interface RetryPolicy {
  /** Calls in all, the first included. */
  readonly attempts: number;
  /** Wait before the second call, ms; doubles per call up to maxDelayMs. */
  readonly initialDelayMs: number;
  /** Longest wait between two calls, ms. */
  readonly maxDelayMs: number;
}

/**
 * The default for commands and start-up: 6 calls over about 8 s of waiting (250 ms … 4 s). On
 * top of kafkajs' own retries, this covers a topic's leader being elected after creation
 * (a few hundred ms on one broker, seconds in a cluster) and a broker restart's first seconds,
 * and still lets a command against a broker that is gone fail within a minute.
 */
export const BROKER_RETRY: RetryPolicy = Object.freeze({ attempts: 6, initialDelayMs: 250, maxDelayMs: 4000 });

export interface RetryOptions {
  policy?: RetryPolicy;
  /** Aborting stops the waiting: the last error is thrown at once. */
  signal?: AbortSignal;
  /** Called before each wait, with the error that caused it. */
  onRetry?: (info: { attempt: number; delayMs: number; error: LeakscopeError }) => void;
  /** Called between a failure and the next call (e.g. to refresh metadata or renew a client). */
  beforeRetry?: () => Promise<void>;
}

/** The wait before call `attempt + 1` (attempt counts from 1). */
export function retryDelayMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Calls `fn` until it succeeds, it fails with an error that is not retryable, or the policy's
 * attempts are spent. Every failure is a LeakscopeError (brokerError saying what was being
 * done); the one thrown in the end is the last.
 */
export async function withBrokerRetries<T>(doing: string, fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = options.policy ?? BROKER_RETRY;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const error = brokerError(doing, err);
      if (!error.retryable || attempt >= policy.attempts || options.signal?.aborted) throw error;
      const delayMs = retryDelayMs(policy, attempt);
      options.onRetry?.({ attempt, delayMs, error });
      if (!(await sleep(delayMs, options.signal))) throw error;
      if (options.beforeRetry) await options.beforeRetry().catch(() => undefined);
    }
  }
}

/** Waits `ms`; false when `signal` aborted the wait. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(true); }, ms);
    const onAbort = (): void => { clearTimeout(timer); resolve(false); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A LeakscopeError for a broker condition that did not clear within its bound. */
export function notReady(what: string, detail: string): LeakscopeError {
  return new LeakscopeError('BROKER_FAILED', `Kafka: ${what}: ${detail}`, { retryable: true });
}
