// The operator API at breach scale: 10 million stored disclosures (the store of
// bench/store-queries.ts), a real `leakscope serve` process, and 20 concurrent clients asking
// who-saw through the API (each answer audited, so fsynced, as in production); then the
// 15-day report through the API against the same report from the CLI (in-process, and as a
// process, as a user runs it). Needs `npm run build` (the serve process runs dist/).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { main } from '../services/cli/main.js';
import { subscriberHash } from '../services/core/privacy/index.js';
import { keyCheckOf } from '../services/keys/index.js';
import { openDuckDbStore } from '../services/store/duckdb/index.js';
import { newToken, tokenHash, writeUsersFile } from '../services/users/index.js';
import { fillBenchStore } from './store-queries.js';

export interface ServeBenchResult {
  rows: number;
  clients: number;
  requests: number;
  whoSawP50Ms: number;
  whoSawP99Ms: number;
  whoSawPerSec: number;
  report15DaysApiMs: number;
  report15DaysCliMs: number;
  report15DaysCliProcessMs: number;
}

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO, 'bin/leakscope.js');

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!;
}

function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 0.5);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

const msSince = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

export async function benchServe(rows = 10_000_000, subscribers = 200_000, numbers = 200, clients = 20, requests = 2_000): Promise<ServeBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'leakscope-bench-serve-'));
  const path = join(dir, 'bench.duckdb');
  const hashKey = Buffer.alloc(32, 7);
  const encKey = Buffer.alloc(32, 9);
  let child: ReturnType<typeof spawn> | null = null;
  try {
    await fillBenchStore(path, rows, subscribers);
    // Give `numbers` subscribers real numbers: their rows get the keyed hash the API will look up.
    const e164 = Array.from({ length: numbers }, (_v, k) => `+4477009${String(k).padStart(5, '0')}`);
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await connection.run(`CREATE TEMP TABLE renames AS SELECT * FROM (VALUES ${e164.map((n, k) => `(md5('s${k}'), '${subscriberHash(hashKey, n)}')`).join(', ')}) t(old, new)`);
    await connection.run(`UPDATE disclosures SET subscriber_hash = r.new FROM temp.renames r WHERE disclosures.subscriber_hash = r.old`);
    connection.closeSync();
    instance.closeSync();
    const store = await openDuckDbStore(path);
    await store.writeMeta({ region: 'GB', keyCheck: keyCheckOf({ hashKey, encKey }) });
    await store.close();
    writeFileSync(`${path}.keys.json`, JSON.stringify({ version: 1, hash_key: hashKey.toString('hex'), enc_key: encKey.toString('hex') }), { mode: 0o600 });
    const token = newToken();
    const usersFile = join(dir, 'users.yaml');
    await writeUsersFile(usersFile, [{ name: 'bench', role: 'investigator', tokenSha256: tokenHash(token), created: new Date().toISOString() }]);

    const port = await freePort();
    child = spawn(process.execPath, [BIN, 'serve', '--db', path, '--users', usersFile, '--listen', `127.0.0.1:${port}`, '--lookups-per-minute', '100000000'], {
      stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LEAKSCOPE_LOG_LEVEL: 'warn' },
    });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child!.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); if (stderr.includes('listening on')) resolve(); });
      child!.on('close', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const whoSaw = async (k: number): Promise<number> => {
      const start = process.hrtime.bigint();
      const res = await fetch(`${base}/api/v1/who-saw`, { method: 'POST', headers, body: JSON.stringify({ number: e164[k % numbers], reason: 'bench BENCH-1' }) });
      await res.text();
      if (res.status !== 200) throw new Error(`who-saw answered ${res.status}`);
      return msSince(start);
    };
    for (let i = 0; i < 40; i++) await whoSaw(i); // warm-up: connections, caches
    const latencies: number[] = [];
    let next = 0;
    const wallStart = process.hrtime.bigint();
    await Promise.all(Array.from({ length: clients }, async () => {
      while (next < requests) latencies.push(await whoSaw((next++ * 7919) % numbers));
    }));
    const wallMs = msSince(wallStart);
    latencies.sort((a, b) => a - b);

    const from = '2012-01-10T00:00:00Z';
    const to = '2012-01-25T00:00:00Z';
    const api: number[] = [];
    const cli: number[] = [];
    const cliProcess: number[] = [];
    let apiBody = '';
    let cliBody = '';
    for (let i = 0; i < 5; i++) {
      let start = process.hrtime.bigint();
      const res = await fetch(`${base}/api/v1/report?from=${from}&to=${to}`, { headers: { authorization: headers.authorization } });
      apiBody = await res.text();
      api.push(msSince(start));
      // Let serve release the file (idle), as it would between a user's requests.
      await new Promise((r) => setTimeout(r, 300));
      const chunks: string[] = [];
      const sink = new Writable({ write(c, _e, done) { chunks.push(String(c)); done(); } });
      start = process.hrtime.bigint();
      const code = await main(['report', '--from', from, '--to', to, '--format', 'json', '--db', path], { stdout: sink, stderr: sink, stdin: process.stdin, env: {}, cwd: dir });
      cli.push(msSince(start));
      if (code !== 0) throw new Error(`report exited ${code}: ${chunks.join('')}`);
      cliBody = chunks.join('');
      start = process.hrtime.bigint();
      await new Promise<void>((resolve, reject) => spawn(process.execPath, [BIN, 'report', '--from', from, '--to', to, '--format', 'json', '--db', path], { stdio: 'ignore' })
        .on('close', (c) => (c === 0 ? resolve() : reject(new Error(`report process exited ${c}`)))));
      cliProcess.push(msSince(start));
    }
    if (apiBody !== cliBody) throw new Error('the API report differs from the CLI report');
    return {
      rows, clients, requests,
      whoSawP50Ms: percentile(latencies, 0.5), whoSawP99Ms: percentile(latencies, 0.99), whoSawPerSec: (requests / wallMs) * 1000,
      report15DaysApiMs: median(api), report15DaysCliMs: median(cli), report15DaysCliProcessMs: median(cliProcess),
    };
  } finally {
    if (child !== null && child.exitCode === null) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
