// A Kafka broker and ClickHouse server of the test's own, for tests that kill and restart
// them: deploy/local/stack with its own port offset and state folder, never the shared stack
// that `npm test` started (other test files use that one at the same time).
//
//   LEAKSCOPE_FAULTS_STACK_PORT_OFFSET  port offset of this stack (default 2000: Kafka 41092, ClickHouse 40123)
//   LEAKSCOPE_FAULTS_STACK_STATE        its state folder (default deploy/local/.state/faults-stack, git-ignored)
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, STACK_SCRIPT } from '../support/servers.js';

export interface PrivateStack {
  brokers: string[];
  clickhouseBase: string;
  state: string;
  /** Starts whatever of its servers is not running (data kept) and waits until they answer. */
  up(): Promise<void>;
  /** Stops its servers (data kept). */
  down(): Promise<void>;
  /** SIGKILL to its broker or ClickHouse server, as a crash; resolves when the process is gone. */
  kill(server: 'kafka' | 'clickhouse'): Promise<void>;
}

export function privateStack(): PrivateStack {
  const offset = process.env.LEAKSCOPE_FAULTS_STACK_PORT_OFFSET ?? '2000';
  if (!/^\d+$/.test(offset)) throw new Error(`LEAKSCOPE_FAULTS_STACK_PORT_OFFSET is "${offset}", not a number`);
  const state = process.env.LEAKSCOPE_FAULTS_STACK_STATE ?? join(REPO_ROOT, 'deploy/local/.state/faults-stack');
  const env = { ...process.env, LEAKSCOPE_STACK_PORT_OFFSET: offset, LEAKSCOPE_STACK_STATE: state };
  const run = async (args: string[]): Promise<string> => {
    try {
      const { stdout } = await promisify(execFile)('bash', [STACK_SCRIPT, ...args], { cwd: REPO_ROOT, env, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`LEAKSCOPE_STACK_PORT_OFFSET=${offset} LEAKSCOPE_STACK_STATE=${state} bash deploy/local/stack ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}`);
    }
  };
  const pidFiles = { kafka: join(state, 'kafka/single/kafka.pid'), clickhouse: join(state, 'clickhouse/clickhouse.pid') };
  const n = Number(offset);
  return {
    brokers: [`127.0.0.1:${39092 + n}`],
    clickhouseBase: `http://127.0.0.1:${38123 + n}/leakscope`,
    state,
    async up() {
      // A server just killed can leave its port briefly unusable (a socket still closing, or a
      // client's ephemeral port: the offsets' ports lie in Linux's ephemeral range): try again.
      let out = '';
      for (let attempt = 1; ; attempt++) {
        try {
          out = await run(['up']);
          break;
        } catch (err) {
          if (attempt >= 3) throw err;
          await new Promise((r) => setTimeout(r, 5000));
        }
      }
      if (!out.includes(`KAFKA_BROKERS=127.0.0.1:${39092 + n}`)) throw new Error(`deploy/local/stack up printed no KAFKA_BROKERS for offset ${offset}: ${out}`);
    },
    async down() {
      await run(['down']);
    },
    async kill(server) {
      const pid = Number(readFileSync(pidFiles[server], 'utf8').trim());
      if (!Number.isSafeInteger(pid) || pid <= 1) throw new Error(`${pidFiles[server]}: no pid`);
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 200; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${server} (pid ${pid}) still runs 10 s after SIGKILL`);
    },
  };
}
