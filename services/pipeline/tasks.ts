// How a scan's inputs are cut into tasks for worker threads: a big plain file into byte
// ranges (every line is read by exactly one range: readLogRange reads the lines that start
// in it), a gzip or small file whole. Stdin cannot be shared, so it never reaches here.
import { open, stat } from 'node:fs/promises';
import { LeakscopeError } from '../core/errors.js';

export type ScanTask =
  | { id: number; kind: 'range'; path: string; start: number; end: number }
  | { id: number; kind: 'whole'; path: string };

export interface InputFile {
  path: string;
  sizeBytes: number;
  gzip: boolean;
}

/** Size and compression of each file input; a file that cannot be opened is refused before anything is scanned. */
export async function inspectInputs(inputs: readonly string[]): Promise<InputFile[]> {
  const files: InputFile[] = [];
  for (const path of inputs) {
    if (path === '-') continue;
    try {
      const info = await stat(path);
      if (info.isDirectory()) throw Object.assign(new Error('it is a directory, not a file'), { code: 'EISDIR' });
      const handle = await open(path, 'r');
      try {
        const magic = Buffer.alloc(2);
        const { bytesRead } = await handle.read(magic, 0, 2, 0);
        files.push({ path, sizeBytes: info.isFile() ? info.size : 0, gzip: bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b });
      } finally {
        await handle.close();
      }
    } catch (cause) {
      const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message;
      throw new LeakscopeError('INPUT_UNREADABLE', `cannot read log file ${path}: ${reason}`, { cause });
    }
  }
  return files;
}

/**
 * Tasks for `workers` threads. A plain file larger than `rangeBytes` is split into ranges of
 * about that size, but never into more than 2 × workers pieces: each range counts the lines
 * before it for exact reject line numbers (a fast byte scan), so more pieces cost rereads.
 */
export function planTasks(files: readonly InputFile[], workers: number, rangeBytes: number): ScanTask[] {
  const tasks: ScanTask[] = [];
  let id = 0;
  for (const file of files) {
    if (file.gzip || file.sizeBytes <= rangeBytes) {
      tasks.push({ id: id++, kind: 'whole', path: file.path });
      continue;
    }
    const pieces = Math.min(2 * workers, Math.ceil(file.sizeBytes / rangeBytes));
    const step = Math.ceil(file.sizeBytes / pieces);
    for (let start = 0; start < file.sizeBytes; start += step) {
      tasks.push({ id: id++, kind: 'range', path: file.path, start, end: Math.min(file.sizeBytes, start + step) });
    }
  }
  return tasks;
}
