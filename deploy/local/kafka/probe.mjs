// Readiness probe for deploy/local/stack: succeeds when a metadata request to BROKERS answers
// with at least EXPECTED brokers. Uses the project's own kafkajs, so "ready" means "ready for
// the client the project uses". Exit codes: 0 ready, 1 not ready, 2 kafkajs not installed.
//
//   node deploy/local/kafka/probe.mjs 127.0.0.1:39092 [expectedBrokers]
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
} catch {
  ok = false;
} finally {
  await admin.disconnect().catch(() => {});
}
process.exit(ok ? 0 : 1);
