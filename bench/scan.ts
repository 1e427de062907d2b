// The end-to-end scan figure: the built CLI (`node bin/leakscope.js scan --json …`) run as a
// child process on one log file into a fresh DuckDB store, timed on the wall clock, with its
// peak RSS (VmHWM, which counts the main thread, the workers and DuckDB) polled from /proc.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ScanBenchOptions {
  /** Passed as --workers; default: the CLI's default (all CPUs, for inputs over 64 MiB). */
  workers?: number;
  /** Extra CLI flags, e.g. ['--format', 'w3c']. */
  extraArgs?: string[];
  /** When given, `leakscope report --format json` of this window is run on the store afterwards (not timed). */
  reportWindow?: { from: number; to: number };
}

export interface ScanBenchResult {
  linesPerSec: number;
  mbPerSec: number;
  peakRssMb: number;
  elapsedMs: number;
  /** Input size in bytes (on disk: compressed for gzip). */
  bytes: number;
  lines: number;
  requests: number;
  disclosures: number;
  violations: number;
  rejected: number;
  /** CPU time of the scan process (all threads), from /proc at the last poll before it exited: about 50 ms short. */
  cpuSeconds: number;
  /** Size of the DuckDB file written. */
  dbBytes: number;
  workers: number | 'default';
  /** The report's JSON text, when reportWindow was given. */
  report: string | null;
}

/** The repository root: the nearest directory upwards holding bin/leakscope.js (works from bench/ and dist/bench/). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'bin', 'leakscope.js'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('bench/scan: cannot find bin/leakscope.js above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

function vmHwmKb(pid: number): number | null {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null; // exited between polls
  }
}

/** utime + stime of a process, in seconds (clock ticks of 1/100 s on Linux). */
function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

// Fixed keys: no key file to create, and the same hashes from run to run.
function keyEnv(): NodeJS.ProcessEnv {
  return { ...process.env, LEAKSCOPE_HASH_KEY: '11'.repeat(32), LEAKSCOPE_ENC_KEY: '22'.repeat(32) };
}

/** Scans `file` with the built CLI (run `npm run build` first) and measures it. */
export async function benchScan(file: string, registryPath: string, options: ScanBenchOptions = {}): Promise<ScanBenchResult> {
  const root = repoRoot();
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error('bench/scan: dist/ is missing; run `npm run build` first');
  const work = mkdtempSync(join(tmpdir(), 'leakscope-bench-scan-'));
  const db = join(work, 'bench.duckdb');
  const args = [join(root, 'bin', 'leakscope.js'), 'scan', '--json', '--registry', registryPath, '--db', db, ...(options.extraArgs ?? [])];
  if (options.workers !== undefined) args.push('--workers', String(options.workers));
  args.push(file);
  try {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: keyEnv(),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    let peakKb = 0;
    let cpuSeconds = 0;
    const poll = setInterval(() => {
      peakKb = Math.max(peakKb, vmHwmKb(child.pid!) ?? 0);
      cpuSeconds = Math.max(cpuSeconds, cpuSecondsOf(child.pid!) ?? 0);
    }, 50);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (c) => resolve(c));
    });
    clearInterval(poll);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (code !== 0) throw new Error(`bench/scan: leakscope scan exited ${code}: ${stderr.trim()}`);
    const summary = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number>;
    let report: string | null = null;
    if (options.reportWindow) {
      const { from, to } = options.reportWindow;
      report = execFileSync(process.execPath, [join(root, 'bin', 'leakscope.js'), 'report', '--format', 'json', '--db', db,
        '--from', new Date(from).toISOString(), '--to', new Date(to).toISOString()], { env: keyEnv(), encoding: 'utf8', maxBuffer: 1 << 30 });
    }
    const bytes = statSync(file).size;
    const seconds = elapsedMs / 1000;
    return {
      linesPerSec: summary['lines']! / seconds,
      mbPerSec: bytes / 1e6 / seconds,
      peakRssMb: peakKb / 1024,
      elapsedMs,
      bytes,
      lines: summary['lines']!,
      requests: summary['requests']!,
      disclosures: summary['disclosures']!,
      violations: summary['violations']!,
      rejected: summary['rejected']!,
      cpuSeconds,
      dbBytes: statSync(db).size,
      workers: options.workers ?? 'default',
      report,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
