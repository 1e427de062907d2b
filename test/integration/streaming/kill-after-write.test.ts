// The detector process killed for real (SIGKILL: no finally, no disconnect, no commit) right
// after a batch reached ClickHouse and before its offsets were committed. A new detector in
// the same group reads the batch again; the answers still equal the truth.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAdmin } from '../support/servers.js';
import { ENC_KEY, FAST_GROUP, HASH_KEY, INCIDENT, answers, cliOk, dropDatabase, streamEnv, truthAnswers, type StreamEnv } from './harness.js';

const DIST = fileURLToPath(new URL('../../../dist/', import.meta.url));

/** A detector in its own process that kills itself with SIGKILL after its first non-empty write. */
function killedDetector(s: StreamEnv, group: string): Promise<{ signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const url = (p: string) => JSON.stringify(new URL(p, `file://${DIST}`).href);
  const script = `
    import { writeSync } from 'node:fs';
    const { Detector } = await import(${url('detector/index.js')});
    const { openClickHouseStore } = await import(${url('store/clickhouse/index.js')});
    const { topicNames } = await import(${url('kafka/index.js')});
    const { createMetrics, silentLogger } = await import(${url('observability/index.js')});
    const detector = new Detector({
      brokers: ${JSON.stringify(s.brokers)}, topics: topicNames(${JSON.stringify(s.prefix)}),
      store: await openClickHouseStore(${JSON.stringify(s.clickhouseUrl)}),
      keys: { hashKey: Buffer.from('${HASH_KEY}', 'hex'), encKey: Buffer.from('${ENC_KEY}', 'hex') },
      logger: silentLogger(), metrics: createMetrics({ processMetrics: false }),
      settings: { ...${JSON.stringify(FAST_GROUP)}, groupId: ${JSON.stringify(group)}, once: true, partitionsConsumedConcurrently: 1 },
      afterWriteForTest: (info) => {
        if (info.written === 0) return;
        writeSync(1, JSON.stringify(info) + '\\n');
        process.kill(process.pid, 'SIGKILL');
      },
    });
    await detector.start();
    await detector.done();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ signal, stdout, stderr }));
  });
}

describe('a detector process killed between write and commit', () => {
  let s: StreamEnv;
  beforeAll(async () => {
    if (!existsSync(join(DIST, 'detector/index.js'))) throw new Error(`${DIST} has no build: run \`npm run build\` first (npm test does)`);
    s = await streamEnv('killed');
  });
  afterAll(async () => {
    if (s) await dropDatabase(s);
  });

  it('leaves its batch stored but uncommitted, and a restart gives the truth exactly', async () => {
    await cliOk(s, ['registry', 'publish', join(INCIDENT, 'registry.yaml')]);
    await cliOk(s, ['ship', join(INCIDENT, 'logs')]);

    const run = await killedDetector(s, 'killed');
    expect(run.stderr).toBe('');
    expect(run.signal).toBe('SIGKILL');
    const info = JSON.parse(run.stdout.trim()) as { partition: number; lastOffset: string; written: number };
    expect(info.written).toBeGreaterThan(0);

    const committed = await withAdmin(s.brokers, (admin) => admin.fetchOffsets({ groupId: 'killed', topics: [`${s.prefix}gateway-requests`] }));
    const offset = BigInt(committed[0]!.partitions.find((p) => p.partition === info.partition)!.offset);
    expect(offset).toBeLessThanOrEqual(BigInt(info.lastOffset)); // -1 (nothing) or an earlier batch's end
    const partial = await answers(s);
    expect((partial.report as { totals: { violations: number } }).totals.violations).toBeGreaterThan(0);

    await cliOk(s, ['detect', '--once', '--group', 'killed']);
    const truth = truthAnswers();
    const got = await answers(s);
    expect(got.report).toEqual(truth.report);
    expect(got.whoSaw).toEqual(truth.whoSaw);
  });
});
