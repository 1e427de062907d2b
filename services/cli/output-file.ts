// Where `--out FILE` of report and export-affected lands: never on the store's own files
// (the store, its WAL, key, rejects and audit files, under any spelling of their paths), and
// opened through the shared safe open: no symlink, no other user's file, owner-only.
import { resolve } from 'node:path';
import { LeakscopeError } from '../core/errors.js';
import { openForWriting, refuseProtectedOutput, storeFiles, OWNER_ONLY_MODE } from '../files/safe-file.js';
import type { StoreLocation } from './store-option.js';

export const OUTPUT_FILE_MODE = OWNER_ONLY_MODE;

/** Checks `--out` before the store is opened, so a refused output costs no query. Returns the absolute path. */
export async function checkOutputPath(out: string, cwd: string, location: StoreLocation): Promise<string> {
  if (out.trim() === '') throw new LeakscopeError('USAGE', '--out needs a file path');
  const path = resolve(cwd, out);
  await refuseProtectedOutput(path, location.kind === 'duckdb' ? storeFiles(location.path) : [], '--out');
  return path;
}

/** Replaces the content of `path` (checked by checkOutputPath) with `text`, mode 0600, synced. */
export async function writeOutputFile(path: string, text: string): Promise<void> {
  const handle = await openForWriting(path, { mode: 'truncate', purpose: '--out', fileMode: OUTPUT_FILE_MODE });
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } catch (cause) {
    throw new LeakscopeError('INPUT_UNREADABLE', `--out ${path}: cannot write: ${(cause as Error).message}`, { cause });
  } finally {
    await handle.close();
  }
}
