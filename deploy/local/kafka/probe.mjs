// Readiness probe for deploy/local/stack: succeeds when a metadata request to BROKERS answers
// with at least EXPECTED brokers. Uses the project's own kafkajs, so "ready" means "ready for
// the client the project uses". Exit codes: 0 ready, 1 not ready, 2 kafkajs not installed.
//
// With --warm it then makes the broker create and load its internal topics (__consumer_offsets
// through a group lookup, __transaction_state through a transactional producer): a fresh
// broker creates them on first use and answers "coordinator not available / loading" until
// they are loaded, which kafkajs does not retry everywhere (a transaction's sendOffsets).
//
//   node deploy/local/kafka/probe.mjs 127.0.0.1:39092 [expectedBrokers] [--warm]
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let kafkajs;
try {
  kafkajs = createRequire(path.join(root, 'package.json'))('kafkajs');
} catch {
  process.exit(2);
}

const brokers = (process.argv[2] ?? '127.0.0.1:39092').split(',');
const expected = Number(process.argv[3] ?? '1');
const warm = process.argv.includes('--warm');
const kafka = new kafkajs.Kafka({
  clientId: 'leakscope-stack-probe',
  brokers,
  connectionTimeout: 2000,
  requestTimeout: 5000,
  retry: { retries: 0 },
  logLevel: kafkajs.logLevel.NOTHING,
});
const admin = kafka.admin();
let ok = false;
try {
  await admin.connect();
  const cluster = await admin.describeCluster();
  ok = cluster.brokers.length >= expected && cluster.controller !== null && cluster.controller !== -1;
  if (ok && warm) {
    const warmKafka = new kafkajs.Kafka({
      clientId: 'leakscope-stack-warmup',
      brokers,
      logLevel: kafkajs.logLevel.NOTHING,
      retry: { retries: 12, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    const warmAdmin = warmKafka.admin();
    await warmAdmin.connect();
    try {
      await warmAdmin.describeGroups(['leakscope-stack-warmup']); // FindCoordinator(GROUP)
    } finally {
      await warmAdmin.disconnect().catch(() => {});
    }
    const producer = warmKafka.producer({ transactionalId: 'leakscope-stack-warmup', maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    try {
      const tx = await producer.transaction(); // InitProducerId via FindCoordinator(TRANSACTION)
      await tx.abort().catch(() => {});
    } finally {
      await producer.disconnect().catch(() => {});
    }
  }
} catch {
  ok = false;
} finally {
  await admin.disconnect().catch(() => {});
}
process.exit(ok ? 0 : 1);
