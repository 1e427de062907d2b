// The position of `ship --follow` in each file of the directory it tails, saved only after
// Kafka acknowledged everything before it, so a restart resends at most the batch that was
// in flight. A file is known by its identity (device and inode), not its name, so a rotated
// (renamed) file is finished where it was left; `head` (a hash of its first bytes) tells a
// reused inode or a file truncated and rewritten from an old one.
//
// File format (JSON, written to a temporary file and renamed over the old one):
//   {"version":1,"files":{"<dev>:<ino>":{"path":"/var/log/gw/access.log","offset":1234,"line":17,"head":"9f…"}}}
// It decides what is sent again, so it is read and written only as a file of our own, never
// through a symlink (README "File safety").
import { Type } from '@sinclair/typebox';
import { LeakscopeError } from '../core/errors.js';
import { configProblems } from '../config/index.js';
import { readTrustedFile, writeFileAtomically } from '../files/safe-file.js';

const PURPOSE = 'the ship checkpoint';

const FilePositionSchema = Type.Object({
  path: Type.String(),
  offset: Type.Integer({ minimum: 0 }),
  line: Type.Integer({ minimum: 0 }),
  head: Type.String(),
}, { additionalProperties: false });

const CheckpointSchema = Type.Object({
  version: Type.Literal(1),
  // Keyed by file identity, "<dev>:<ino>".
  files: Type.Unsafe<Record<string, FilePosition>>({
    type: 'object', patternProperties: { '^\\d+:\\d+$': FilePositionSchema }, additionalProperties: false,
  }),
}, { additionalProperties: false });

export interface FilePosition {
  /** Where the file was last seen (for people; identity is the key). */
  path: string;
  /** Bytes acknowledged: the next line to send starts here. */
  offset: number;
  /** Lines acknowledged: the next line's number is line + 1. */
  line: number;
  /** sha256 (hex, 16 digits) of the file's first HEAD_BYTES bytes when first read; '' while shorter. */
  head: string;
}

export interface CheckpointContent {
  version: 1;
  files: Record<string, FilePosition>;
}

export class Checkpoint {
  private constructor(private readonly path: string, readonly content: CheckpointContent) {}

  /** Reads the checkpoint file, or starts an empty one when it does not exist. */
  static async load(path: string): Promise<Checkpoint> {
    const read = await readTrustedFile(path, PURPOSE);
    if (read === null) return new Checkpoint(path, { version: 1, files: {} });
    const text = read.text;
    let content: unknown;
    try {
      content = JSON.parse(text);
    } catch (err) {
      throw new LeakscopeError('INPUT_UNREADABLE', `checkpoint ${path}: not JSON (${(err as Error).message}); move it away to start over from the beginning of every file`);
    }
    const problems = configProblems(CheckpointSchema, content).map((p) => `${p.path === '' ? 'the file' : p.path}: ${p.message}`);
    if (problems.length > 0) {
      throw new LeakscopeError('INPUT_UNREADABLE',
        `checkpoint ${path}: not a checkpoint of this version (${problems.join('; ')}); move it away to start over from the beginning of every file`,
        { problems });
    }
    return new Checkpoint(path, content as CheckpointContent);
  }

  get(key: string): FilePosition | undefined {
    return this.content.files[key];
  }

  set(key: string, position: FilePosition): void {
    this.content.files[key] = position;
  }

  /** Forgets files that are gone from the directory. */
  retain(keys: ReadonlySet<string>): boolean {
    let changed = false;
    for (const key of Object.keys(this.content.files)) {
      if (!keys.has(key)) {
        delete this.content.files[key];
        changed = true;
      }
    }
    return changed;
  }

  /** Writes atomically: a crash leaves the old checkpoint or the new one, never half of one. */
  async save(): Promise<void> {
    await writeFileAtomically(this.path, `${JSON.stringify(this.content)}\n`, { purpose: PURPOSE });
  }
}
