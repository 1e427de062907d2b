// A log profile as a file: reads it (YAML or JSON, UTF-8) and hands the value to the pure
// validator in core/parse. Unreadable files become INPUT_UNREADABLE, YAML that does not
// parse or a profile that does not validate CONFIG_INVALID with every problem named.
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { LeakscopeError } from '../core/errors.js';
import { parseProfile, type LogProfile } from '../core/parse/index.js';

/** Profiles are a few dozen lines; a bigger file is not one. */
const MAX_PROFILE_BYTES = 256 * 1024;

export async function readProfileFile(path: string): Promise<LogProfile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new LeakscopeError('INPUT_UNREADABLE', `cannot read log profile ${path}: ${why}`, { cause: err });
  }
  const refuse = (problems: string[]): LeakscopeError =>
    new LeakscopeError('CONFIG_INVALID', `log profile ${path} is invalid: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n  ${problems.join('\n  ')}`, { problems });
  if (bytes.length > MAX_PROFILE_BYTES) throw refuse([`(root): the file is ${bytes.length} bytes; a profile is at most ${MAX_PROFILE_BYTES}`]);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw refuse(['(root): the file is not UTF-8 text; save it as UTF-8']);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw refuse(doc.errors.map((e) => {
      const at = lineCounter.linePos(e.pos[0]);
      return `line ${at.line}, column ${at.col}: ${e.message.split('\n')[0]}`;
    }));
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 }); // aliases expanded; the cap stops a "billion laughs" document
  } catch (err) {
    throw refuse([`(root): cannot be read: ${(err as Error).message}`]);
  }
  return parseProfile(value, path);
}
