// The operator API at breach scale: 10 million stored disclosures (the store of
// bench/store-queries.ts), a real `leakscope serve` process, and 20 concurrent clients asking
// who-saw through the API (each answer audited, so fsynced, as in production); then the
// 15-day report through the API against the same report from the CLI (in-process, and as a
// process, as a user runs it). Needs `npm run build` (the serve process runs dist/). The clients
// run in a process of their own (serve-clients.ts) and ask for subscribers drawn at random
// among all those stored; the service's CPU per lookup is read from /proc. The 10 M store takes
// minutes to make, so it is kept between runs (BENCH_SERVE_STORE_DIR, below) and only its audit
// trail is started afresh.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../services/cli/main.js';
import { verifyChain } from '../services/audit/index.js';
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
  /** CPU of the serve process (all its threads) per who-saw, and of the clients' process. */
  serverCpuMsPerLookup: number;
  clientCpuMsPerLookup: number;
  /**
   * The baseline measured alongside: CPU per who-saw of the same store answering in-process
   * (DisclosureStore.whoSaw, 4 at a time, random subscribers), i.e. DuckDB and the grouping
   * alone, with no HTTP, authentication, audit or JSON.
   */
  storeCpuMsPerLookup: number;
  /** Audit entries written during the run, all verified as one chain. */
  auditEntries: number;
  /** Different subscribers among the requests, and how many are stored. */
  distinctSubscribers: number;
  subscribers: number;
  fillSeconds: number;
  layoutSeconds: number;
  /**
   * serve's who-saw index as its /metrics showed it after the run: state, rows, bytes, build
   * time, answers by source (all lookups, warm-up included), the wait for it before the clients
   * started and serve's RSS before and after it was read.
   */
  index: { state: string; rows: number; bytes: number; buildSeconds: number; fromIndex: number; fromStore: number; waitMs: number; rssBeforeMb: number; rssAfterMb: number };
  /** The store was kept from an earlier run (BENCH_SERVE_STORE_DIR): no fill this time. */
  storeReused: boolean;
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

/** Resident memory of a process, in MB; Linux /proc. */
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:')) ?? 'VmRSS: 0 kB';
  return Number(line.replace(/\D+/g, '')) / 1024;
}

/** The who-saw index as serve's /metrics shows it; all absent (state 'none') from a service that has none. */
async function scrapeIndex(base: string): Promise<ServeBenchResult['index']> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  const state = /^leakscope_who_saw_index_state\{state="(\w+)"\} 1$/m.exec(text)?.[1] ?? 'none';
  return {
    state, rows: value('leakscope_who_saw_index_rows'), bytes: value('leakscope_who_saw_index_bytes'), buildSeconds: value('leakscope_who_saw_index_build_seconds'),
    fromIndex: value('leakscope_who_saw_answers_total\\{source="index"\\}'), fromStore: value('leakscope_who_saw_answers_total\\{source="store"\\}'),
    waitMs: 0, rssBeforeMb: 0, rssAfterMb: 0,
  };
}

/** CPU time (user + system, all threads) a process has used, in ms; Linux /proc. */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 (1-based), counted in clock ticks (100 per second on Linux).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** CPU (this process, all threads) per who-saw of the store alone, in-process: 4 at a time, as serve's read pool runs them. */
async function storeAloneCpuMs(path: string, hashKey: Buffer, e164: readonly string[], lookups: number): Promise<number> {
  const store = await openDuckDbStore(path, { readOnly: true });
  try {
    const pick = () => subscriberHash(hashKey, e164[Math.floor(Math.random() * e164.length)]!);
    const run = async (n: number) => {
      let next = 0;
      await Promise.all(Array.from({ length: 4 }, async () => {
        while (next < n) {
          next += 1;
          await store.whoSaw(pick(), { from: null, to: null });
        }
      }));
    };
    await run(200);
    const cpu = process.cpuUsage();
    await run(lookups);
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / 1000 / lookups;
  } finally {
    await store.close();
  }
}

/**
 * Where the bench's store is kept between runs: BENCH_SERVE_STORE_DIR, default
 * <tmpdir>/leakscope-bench-serve-store; BENCH_SERVE_STORE_DIR=none makes a new one each run.
 * A store is reused only when its marker file says it was filled completely with the same
 * rows, subscribers and fill version (bump STORE_FILL_VERSION when fillBenchStore changes).
 */
const STORE_FILL_VERSION = 1;

async function benchStore(rows: number, subscribers: number, hashes: () => string[], scratch: string): Promise<{ path: string; fillSeconds: number; layoutSeconds: number; reused: boolean }> {
  const setting = process.env.BENCH_SERVE_STORE_DIR ?? join(tmpdir(), 'leakscope-bench-serve-store');
  const folder = setting === 'none' ? scratch : setting;
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const path = join(folder, `bench-${rows}-${subscribers}.duckdb`);
  const marker = `${path}.filled.json`;
  const wanted = JSON.stringify({ rows, subscribers, version: STORE_FILL_VERSION });
  if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted && existsSync(path)) return { path, fillSeconds: 0, layoutSeconds: 0, reused: true };
  for (const suffix of ['', '.wal', '.filled.json']) rmSync(`${path}${suffix}`, { force: true });
  const { fillSeconds, layoutSeconds } = await fillBenchStore(path, rows, subscribers, hashes());
  writeFileSync(marker, wanted, { mode: 0o600 });
  return { path, fillSeconds, layoutSeconds, reused: false };
}

export async function benchServe(rows = 10_000_000, subscribers = 200_000, clients = 20, requests = 2_000): Promise<ServeBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'leakscope-bench-serve-'));
  const hashKey = Buffer.alloc(32, 7);
  const encKey = Buffer.alloc(32, 9);
  let child: ReturnType<typeof spawn> | null = null;
  try {
    // Every stored subscriber has a real number, stored under the keyed hash the API will look up.
    const e164 = Array.from({ length: subscribers }, (_v, k) => `+447700${String(k).padStart(6, '0')}`);
    const { path, fillSeconds, layoutSeconds, reused } = await benchStore(rows, subscribers, () => e164.map((n) => subscriberHash(hashKey, n)), dir);
    // A kept store's trail is the last run's: this run's entries are counted and verified from an empty one.
    for (const suffix of ['.audit.ndjson', '.audit.ndjson.lock', '.readers-waiting', '.writer-waiting']) rmSync(`${path}${suffix}`, { force: true });
    if (!reused) {
      const store = await openDuckDbStore(path);
      await store.writeMeta({ region: 'GB', keyCheck: keyCheckOf({ hashKey, encKey }) });
      await store.close();
    }
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
    const serverPid = child.pid!;
    // serve reads its who-saw index in the background: wait for it (a service without one goes on at once).
    const rssBeforeIndexMb = rssMb(serverPid);
    const indexStart = process.hrtime.bigint();
    let index = await scrapeIndex(base);
    while (index.state === 'building' && msSince(indexStart) < 600_000) {
      await new Promise((r) => setTimeout(r, 200));
      index = await scrapeIndex(base);
    }
    const indexWaitMs = msSince(indexStart);
    const rssAfterIndexMb = rssMb(serverPid);

    const specFile = join(dir, 'clients.json');
    const warmup = 200;
    writeFileSync(specFile, JSON.stringify({ base, token, numbers: e164, clients, requests, warmup }), { mode: 0o600 });
    let serverCpuStart = 0;
    const clientsOut = await new Promise<string>((resolve, reject) => {
      const clientsProcess = spawn(process.execPath, [fileURLToPath(new URL('./serve-clients.js', import.meta.url)), specFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      clientsProcess.stdout.on('data', (c: Buffer) => { out += c.toString(); });
      clientsProcess.stderr.on('data', (c: Buffer) => {
        err += c.toString();
        if (serverCpuStart === 0 && err.includes('measuring')) serverCpuStart = processCpuMs(serverPid);
      });
      clientsProcess.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`the clients exited ${code}: ${err}`))));
    });
    const serverCpuMs = processCpuMs(serverPid) - serverCpuStart;
    const answered = await scrapeIndex(base);
    const measured = JSON.parse(clientsOut) as { latencies: number[]; cpuMs: number; wallMs: number; distinct: number };
    const latencies = [...measured.latencies].sort((a, b) => a - b);
    // Every answer was audited: one entry per request, the whole trail one valid chain.
    const auditLines = readFileSync(`${path}.audit.ndjson`, 'utf8').split('\n').filter((line) => line.length > 0);
    const chain = verifyChain(auditLines);
    if (!chain.ok || auditLines.length !== warmup + requests) {
      throw new Error(`the audit trail holds ${auditLines.length} entries for ${warmup + requests} answers${chain.ok ? '' : `: ${chain.problem}`}`);
    }
    const storeCpuMsPerLookup = await storeAloneCpuMs(path, hashKey, e164, requests);

    const from = '2012-01-10T00:00:00Z';
    const to = '2012-01-25T00:00:00Z';
    const api: number[] = [];
    const cli: number[] = [];
    const cliProcess: number[] = [];
    let apiBody = '';
    let cliBody = '';
    for (let i = 0; i < 5; i++) {
      let start = process.hrtime.bigint();
      const res = await fetch(`${base}/api/v1/report?from=${from}&to=${to}`, { headers: { authorization: `Bearer ${token}` } });
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
      rows, clients, requests, subscribers, fillSeconds, layoutSeconds, storeReused: reused,
      whoSawP50Ms: percentile(latencies, 0.5), whoSawP99Ms: percentile(latencies, 0.99), whoSawPerSec: (requests / measured.wallMs) * 1000,
      serverCpuMsPerLookup: serverCpuMs / requests, clientCpuMsPerLookup: measured.cpuMs / requests, distinctSubscribers: measured.distinct,
      storeCpuMsPerLookup, auditEntries: auditLines.length,
      index: { ...answered, waitMs: indexWaitMs, rssBeforeMb: rssBeforeIndexMb, rssAfterMb: rssAfterIndexMb },
      report15DaysApiMs: median(api), report15DaysCliMs: median(cli), report15DaysCliProcessMs: median(cliProcess),
    };
  } finally {
    if (child !== null && child.exitCode === null) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
