// `--check` of the streaming commands: do the brokers answer? One admin describeCluster with a
// short timeout and no long retries, so that a unit's ExecStartPre fails fast and names them.
import kafkajs from 'kafkajs';
import { LeakscopeError } from '../core/errors.js';

export const BROKER_CHECK_TIMEOUT_MS = 5000;

/** Resolves with the number of brokers in the cluster; a BROKER_FAILED naming `brokers` otherwise. */
export async function checkBrokers(brokers: readonly string[], timeoutMs = BROKER_CHECK_TIMEOUT_MS): Promise<number> {
  const kafka = new kafkajs.Kafka({
    clientId: 'leakscope-check', brokers: [...brokers], connectionTimeout: timeoutMs, requestTimeout: timeoutMs,
    retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 }, logLevel: kafkajs.logLevel.NOTHING,
  });
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  try {
    const described = admin.connect().then(() => admin.describeCluster());
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs * 2);
    });
    const cluster = await Promise.race([described, timeout]);
    return cluster.brokers.length;
  } catch (cause) {
    throw new LeakscopeError('BROKER_FAILED', `Kafka brokers ${brokers.join(',')} do not answer: ${(cause as Error).message}`, { cause });
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}
