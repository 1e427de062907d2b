// The partner registry as a file: reads it (YAML or JSON, UTF-8) and hands the text to the
// pure parser. Unreadable files become INPUT_UNREADABLE naming the path and the OS reason.
import { readFile } from 'node:fs/promises';
import { LeakscopeError } from '../core/errors.js';
import { parseRegistry } from '../core/registry/index.js';
import type { Registry } from '../core/types.js';

const OS_REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
};

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code && OS_REASONS[code]) return `${OS_REASONS[code]} (${code})`;
  return code ? `${(err as Error).message}` : String((err as Error)?.message ?? err);
}

/** Reads and validates a registry file; throws INPUT_UNREADABLE or REGISTRY_INVALID. */
export async function readRegistryFile(path: string): Promise<Registry> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new LeakscopeError('INPUT_UNREADABLE', `cannot read registry file ${path}: ${reason(err)}`, { cause: err });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new LeakscopeError('REGISTRY_INVALID', `registry ${path} is invalid: 1 problem`, {
      cause: err,
      problems: ['(root): the file is not UTF-8 text; save it as UTF-8'],
    });
  }
  return parseRegistry(text, path);
}
