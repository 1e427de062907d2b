// Streaming reads keep memory flat: a multi-GB NDJSON log (gzip too) read end to end by
// readLogs in a child process, whose peak RSS (VmHWM) is compared with that of reading a
// file 16 times smaller. Bounded memory means the two peaks are about the same.
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { generateLogText } from './parse.js';

export interface MemoryBenchResult {
  bigFileBytes: number;
  smallFileBytes: number;
  bigPeakRssMb: number;
  smallPeakRssMb: number;
  gzipPeakRssMb: number;
  lines: number;
}

async function writeRepeated(path: string, block: Buffer, times: number, gzip = false): Promise<void> {
  const blocks = (function* () { for (let i = 0; i < times; i++) yield block; })();
  if (gzip) await pipeline(Readable.from(blocks), createGzip({ level: 1 }), createWriteStream(path));
  else await pipeline(Readable.from(blocks), createWriteStream(path));
}

/** Reads `file` with readLogs in a fresh node process; returns its peak RSS and the lines read. */
function readInChild(file: string): { peakRssMb: number; lines: number } {
  const logs = new URL('../services/files/index.js', import.meta.url).href;
  const script = `
    const { readLogs } = await import(${JSON.stringify(logs)});
    let lines = 0;
    for await (const b of readLogs([${JSON.stringify(file)}], { format: 'auto' })) lines += b.lines;
    const hwm = /VmHWM:\\s+(\\d+) kB/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1];
    console.log(JSON.stringify({ peakRssMb: Number(hwm) / 1024, lines }));`;
  const out = execFileSync(process.execPath, ['--input-type=commonjs', '-e', `(async () => { ${script} })()`], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

export async function benchMemory(gigabytes = 2): Promise<MemoryBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'leakscope-bench-mem-'));
  try {
    const block = generateLogText('ndjson', 64 * 2 ** 20);
    const times = Math.ceil((gigabytes * 2 ** 30) / block.length);
    const big = join(dir, 'big.ndjson');
    const small = join(dir, 'small.ndjson');
    const gz = join(dir, 'big.ndjson.gz');
    await writeRepeated(big, block, times);
    await writeRepeated(small, block, Math.max(1, Math.floor(times / 16)));
    await writeRepeated(gz, block, times, true);
    const bigRun = readInChild(big);
    const smallRun = readInChild(small);
    const gzRun = readInChild(gz);
    return {
      bigFileBytes: statSync(big).size, smallFileBytes: statSync(small).size,
      bigPeakRssMb: bigRun.peakRssMb, smallPeakRssMb: smallRun.peakRssMb, gzipPeakRssMb: gzRun.peakRssMb, lines: bigRun.lines,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
