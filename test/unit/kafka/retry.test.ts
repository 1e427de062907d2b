// Retry decisions are data on the error: kafkajs' classification carried by brokerError into
// LeakscopeError.retryable, and withBrokerRetries acting on it within its bound.
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { LeakscopeError } from '../../../services/core/errors.js';
import { brokerError, retryDelayMs, withBrokerRetries, type RetryPolicy } from '../../../services/kafka/index.js';

const { KafkaJSProtocolError, KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSNonRetriableError } = kafkajs;
// The broker's error table, as kafkajs decodes a response's error code.
const { createErrorFromCode } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { createErrorFromCode: (code: number) => Error };

const NOT_LEADER = 6; // NOT_LEADER_OR_FOLLOWER: "This server is not the leader for that topic-partition"
const LEADER_NOT_AVAILABLE = 5;
const TOPIC_AUTHORIZATION_FAILED = 29;

const FAST: RetryPolicy = { attempts: 4, initialDelayMs: 1, maxDelayMs: 4 };

describe('brokerError', () => {
  it.each([
    ['not the leader for a partition (just created)', () => createErrorFromCode(NOT_LEADER), true],
    ['leader not available', () => createErrorFromCode(LEADER_NOT_AVAILABLE), true],
    ['a refused connection (broker restarting)', () => new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'), true],
    ['retries exhausted on a refused connection', () => new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('ECONNREFUSED'), { retryCount: 8, retryTime: 5000 }), true],
    ['retries exhausted on an error that is not retriable', () => new KafkaJSNumberOfRetriesExceeded(new KafkaJSNonRetriableError('bad'), { retryCount: 8, retryTime: 5000 }), false],
    ['authorisation refused', () => createErrorFromCode(TOPIC_AUTHORIZATION_FAILED), false],
    ['a plain Error', () => new Error('boom'), false],
  ])('%s → retryable %s', (_what, make, retryable) => {
    const e = brokerError('doing it', make());
    expect(e).toBeInstanceOf(LeakscopeError);
    expect(e.code).toBe('BROKER_FAILED');
    expect(e.retryable).toBe(retryable);
    expect(e.message).toMatch(/^Kafka: doing it: /);
  });

  it('keeps a LeakscopeError as it is', () => {
    const original = new LeakscopeError('BROKER_FAILED', 'x', { retryable: true });
    expect(brokerError('y', original)).toBe(original);
  });

  it('reads kafkajs protocol errors by their flag, not their text', () => {
    const e = new KafkaJSProtocolError({ type: 'SOMETHING', code: 999, retriable: true, message: 'not the leader' } as unknown as Error);
    expect(brokerError('x', e).retryable).toBe(true);
    const f = new KafkaJSProtocolError({ type: 'SOMETHING', code: 999, retriable: false, message: 'not the leader' } as unknown as Error);
    expect(brokerError('x', f).retryable).toBe(false);
  });
});

describe('withBrokerRetries', () => {
  it('retries a retryable failure until the call succeeds', async () => {
    let calls = 0;
    const retried: number[] = [];
    const got = await withBrokerRetries('reading offsets', async () => {
      calls++;
      if (calls < 3) throw createErrorFromCode(NOT_LEADER);
      return 'ok';
    }, { policy: FAST, onRetry: ({ attempt }) => retried.push(attempt) });
    expect(got).toBe('ok');
    expect(calls).toBe(3);
    expect(retried).toEqual([1, 2]);
  });

  it('gives up after the bound with the last error, still marked retryable', async () => {
    let calls = 0;
    const err = await withBrokerRetries('reading offsets', async () => {
      calls++;
      throw createErrorFromCode(NOT_LEADER);
    }, { policy: FAST }).catch((e: unknown) => e);
    expect(calls).toBe(FAST.attempts);
    expect(err).toBeInstanceOf(LeakscopeError);
    expect((err as LeakscopeError).retryable).toBe(true);
    expect((err as LeakscopeError).message).toMatch(/Kafka: reading offsets: .*not the leader/i);
  });

  it('fails at once on an error that is not retryable', async () => {
    let calls = 0;
    await expect(withBrokerRetries('creating topics', async () => {
      calls++;
      throw createErrorFromCode(TOPIC_AUTHORIZATION_FAILED);
    }, { policy: FAST })).rejects.toMatchObject({ code: 'BROKER_FAILED', retryable: false });
    expect(calls).toBe(1);
  });

  it('stops waiting when aborted', async () => {
    const controller = new AbortController();
    let calls = 0;
    const run = withBrokerRetries('producing', async () => {
      calls++;
      if (calls === 1) setTimeout(() => controller.abort(), 5);
      throw new KafkaJSConnectionError('ECONNREFUSED');
    }, { policy: { attempts: 100, initialDelayMs: 60_000, maxDelayMs: 60_000 }, signal: controller.signal });
    await expect(run).rejects.toMatchObject({ code: 'BROKER_FAILED', retryable: true });
    expect(calls).toBe(1);
  });

  it('runs beforeRetry between a failure and the next call', async () => {
    const events: string[] = [];
    let calls = 0;
    await withBrokerRetries('producing', async () => {
      events.push(`call ${++calls}`);
      if (calls === 1) throw new KafkaJSConnectionError('ECONNREFUSED');
    }, { policy: FAST, beforeRetry: async () => { events.push('renew'); } });
    expect(events).toEqual(['call 1', 'renew', 'call 2']);
  });

  it('doubles the wait up to the largest', () => {
    const policy: RetryPolicy = { attempts: 10, initialDelayMs: 250, maxDelayMs: 4000 };
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => retryDelayMs(policy, a))).toEqual([250, 500, 1000, 2000, 4000, 4000, 4000]);
  });
});
