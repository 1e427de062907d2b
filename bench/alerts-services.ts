// The services `npm run bench -- alerts` times, each run as operators run it: `leakscope
// detect`, `leakscope notify`, `leakscope watch` in a process of their own (the CLI of this
// bench's build, so the code timed is the code beside it), with their /metrics and /healthz,
// their log events (pino JSON on standard error, read line by line) and their CPU time.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const CLI = new URL('../services/cli/main.js', import.meta.url).href;
/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

export interface LogEvent { msg: string; time: string; [field: string]: unknown }

export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** The value of one sample of its /metrics, or null when absent (or not answering). */
  sample(name: string, labels?: string): Promise<number | null>;
  /** CPU time the process (every thread) has used so far, µs. */
  cpuUs(): number;
  /** SIGTERM, then the exit code (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const running = new Set<ChildProcess>();
process.once('exit', () => { for (const c of running) c.kill('SIGKILL'); });

/**
 * Starts `leakscope ARGV… --metrics-port P` and resolves once its /healthz answers 200. Every
 * log event it writes is given to `onEvent` as it comes.
 */
export async function startService(name: string, argv: string[], env: Record<string, string>, onEvent: (e: LogEvent) => void, startTimeoutMs = 120_000): Promise<ServiceProcess> {
  const port = await freePort();
  const script = `const { main } = await import(${JSON.stringify(CLI)}); process.exitCode = await main(process.argv.slice(1));`;
  // LEAKSCOPE_BENCH_PROFILE=DIR: each service writes its CPU profile there when it stops.
  const dir = process.env.LEAKSCOPE_BENCH_PROFILE;
  const profile = dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...profile, '--input-type=module', '-e', script, ...argv, '--metrics-port', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', ...env },
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const tail: string[] = [];
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('{')) {
        try {
          onEvent(JSON.parse(line) as LogEvent);
          continue;
        } catch { /* not one of its events: kept for the error message */ }
      }
      tail.push(line);
      if (tail.length > 20) tail.shift();
    }
  });
  const base = `http://127.0.0.1:${port}`;
  const get = async (path: string): Promise<{ status: number; text: string } | null> => {
    try {
      const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5000) });
      return { status: res.status, text: await res.text() };
    } catch {
      return null;
    }
  };
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`leakscope ${name} exited ${child.exitCode}: ${tail.join('\n')}`);
    if ((await get('/healthz'))?.status === 200) break;
    if (Date.now() > deadline) throw new Error(`leakscope ${name}: /healthz not 200 within ${startTimeoutMs} ms: ${tail.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name,
    pid: child.pid!,
    port,
    async sample(metric, labels = '') {
      const text = (await get('/metrics'))?.text;
      const line = text?.split('\n').find((l) => l.startsWith(`${metric}${labels === '' ? '' : `{${labels}}`} `));
      return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1));
    },
    cpuUs: () => processCpuUs(child.pid!),
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const [code] = (await once(child, 'exit')) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
}

/** utime + stime of a process, every thread included, in µs (Linux /proc). */
export function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count after its end.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / USER_HZ;
}
