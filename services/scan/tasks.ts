// How a scan's inputs are cut into tasks for worker threads: a big plain file into byte
// ranges (every line is read by exactly one range: readLogRange reads the lines that start
// in it), a gzip or small file whole. Stdin cannot be shared, so it never reaches here.
// The ranges' starts (line numbers, W3C `#Fields:`) are found here in one pass over the file,
// so there can be many ranges, and workers that finish early take more of them.
import { open, stat } from 'node:fs/promises';
import { LeakscopeError } from '../core/errors.js';
import { detectFormat } from '../core/parse/index.js';
import { describeLine } from '../core/parse/line-text.js';
import type { LogFormat } from '../core/types.js';
import { rangeStarts, type RangeStart } from '../files/index.js';

export type ScanTask =
  | { id: number; kind: 'range'; path: string; start: number; end: number; known: RangeStart }
  | { id: number; kind: 'whole'; path: string };

export interface InputFile {
  path: string;
  sizeBytes: number;
  gzip: boolean;
  /** Not a regular file (a FIFO, a pipe, a device): read once as a stream, never in ranges. */
  stream: boolean;
}

/** Bytes read to find a plain file's first line when the format is told from it. */
const HEAD_BYTES = 64 * 1024;

/**
 * Size and compression of each file input. A file that cannot be opened, or (with `auto`) a
 * plain file whose first line is neither NDJSON nor W3C, is refused before anything is
 * scanned, so a refused scan stores nothing. Gzip files are checked when they are read.
 */
export async function inspectInputs(inputs: readonly string[], format: LogFormat | 'auto' = 'auto'): Promise<InputFile[]> {
  const files: InputFile[] = [];
  for (const path of inputs) {
    if (path === '-') continue;
    try {
      const info = await stat(path);
      if (info.isDirectory()) throw Object.assign(new Error('it is a directory, not a file'), { code: 'EISDIR' });
      if (!info.isFile()) {
        // A FIFO, process substitution (`<(zcat x)`) or a device: it cannot seek, and opening
        // it here would consume or unblock what its writer sends. Read once, as a stream;
        // its format is told from its first line when it is read.
        files.push({ path, sizeBytes: 0, gzip: false, stream: true });
        continue;
      }
      const handle = await open(path, 'r');
      let head: Buffer;
      try {
        const buffer = Buffer.alloc(HEAD_BYTES);
        const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
        head = buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
      const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
      files.push({ path, sizeBytes: info.size, gzip, stream: false });
      if (format === 'auto' && !gzip) checkFormat(path, head);
    } catch (cause) {
      if (cause instanceof LeakscopeError) throw cause;
      const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message;
      throw new LeakscopeError('INPUT_UNREADABLE', `cannot read log file ${path}: ${reason}`, { cause });
    }
  }
  return files;
}

function checkFormat(path: string, head: Buffer): void {
  const text = head.toString('utf8');
  const line = text.split('\n').find((l) => l.replace(/^\uFEFF/, '').trim() !== '');
  if (line === undefined) return; // empty so far: nothing to tell, nothing to refuse
  if (detectFormat(line) === null) {
    throw new LeakscopeError('FORMAT_UNKNOWN',
      `${path}: cannot tell the log format from its first line (${describeLine(line)}): ` +
      'NDJSON lines start with "{" and W3C logs with a "#" directive; pass --format ndjson or --format w3c');
  }
}

/**
 * Ranges per worker, at least, of a file big enough to be cut: the workers do not run at the
 * same speed (a range full of disclosures costs more; the machine is shared), so with one or
 * two ranges each one worker sat idle while the other finished (30 % of a worker's time on a
 * 300,000-line mix); with eight each, the tail is a sixteenth of the work at most.
 */
const RANGES_PER_WORKER = 8;

/**
 * Tasks for `workers` threads. A plain file larger than `rangeBytes` is split into ranges of
 * at most that size and at least RANGES_PER_WORKER per worker; where each range starts is
 * found here (rangeStarts, one pass over the file) and handed to its worker.
 */
export async function planTasks(files: readonly InputFile[], workers: number, rangeBytes: number): Promise<ScanTask[]> {
  const tasks: ScanTask[] = [];
  let id = 0;
  for (const file of files) {
    if (file.gzip || file.stream || file.sizeBytes <= rangeBytes) {
      tasks.push({ id: id++, kind: 'whole', path: file.path });
      continue;
    }
    const pieces = Math.max(RANGES_PER_WORKER * workers, Math.ceil(file.sizeBytes / rangeBytes));
    const step = Math.ceil(file.sizeBytes / pieces);
    const offsets: number[] = [];
    for (let start = 0; start < file.sizeBytes; start += step) offsets.push(start);
    const starts = await rangeStarts(file.path, offsets);
    for (let i = 0; i < starts.length; i++) {
      const known = starts[i]!;
      const end = i + 1 < starts.length ? starts[i + 1]!.start : file.sizeBytes;
      if (end > known.start) tasks.push({ id: id++, kind: 'range', path: file.path, start: known.start, end, known });
    }
  }
  return tasks;
}
