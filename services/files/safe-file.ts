// The one way leakscope opens a file it writes, or a file it trusts (the key file, a
// checkpoint): never through a symlink, only a regular file, only one the current user owns,
// reached only through folders nobody else can change, and narrowed to an owner-only mode
// before a byte goes in. The checks on the file run on the opened descriptor (O_NOFOLLOW,
// then fstat), so nothing can be swapped between check and use; the folders are checked
// before, and since no one else can change them, what was checked is what is opened.
// README "File safety" states the promises this module keeps.
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { lstat, open, readFile, readlink, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { LeakscopeError } from '../core/errors.js';

/** Mode of every file leakscope creates or writes: owner read and write only. */
export const OWNER_ONLY_MODE = 0o600;

export type WriteMode =
  /** Append to the file, creating it when missing (rejects, audit log). */
  | 'append'
  /** Replace the content, creating the file when missing (reports, exports). */
  | 'truncate'
  /** Create the file; refuse if the name exists (a key file, a temporary file). */
  | 'create-new';

export interface SafeOpenOptions {
  /** How the file is opened for writing. */
  mode: WriteMode;
  /** What the file is, for messages: `the rejects file`, `--out`. */
  purpose: string;
  /** Permission bits the file is given (default 0600). */
  fileMode?: number;
}

const { O_WRONLY, O_RDONLY, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW, O_NONBLOCK } = fsConstants;

/**
 * Opens `path` for writing. Refused with FILE_UNSAFE: a folder on the way that another user
 * could change (see checkFolders), a symlink as the file itself, a FIFO, device or directory,
 * or a file owned by another user. O_TRUNC is never passed to
 * open(): a file is emptied only after it passed the checks. O_NONBLOCK keeps a FIFO from
 * hanging the open; it does nothing to a regular file.
 */
export async function openForWriting(path: string, options: SafeOpenOptions): Promise<FileHandle> {
  const fileMode = options.fileMode ?? OWNER_ONLY_MODE;
  let flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK;
  if (options.mode === 'append') flags |= O_APPEND;
  if (options.mode === 'create-new') flags |= O_EXCL;
  const shared = await checkFolders(path, options.purpose);
  let handle: FileHandle;
  try {
    handle = await open(path, flags, fileMode);
  } catch (error) {
    // O_EXCL reports a symlink as an existing name: say what it is.
    if (errnoOf(error) === 'EEXIST' && (await lstat(path).then((s) => s.isSymbolicLink(), () => false))) throw symlinkError(path, options.purpose);
    throw openError(path, options.purpose, error, 'writing');
  }
  try {
    checkOpened(path, options.purpose, await handle.stat(), shared);
    // The mode given to open() applies only to a file it creates, and the umask may narrow
    // even that: set it on the descriptor, so an old 0644 file is closed before writing.
    await handle.chmod(fileMode);
    if (options.mode === 'truncate') await handle.truncate(0);
    return handle;
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Opens a file leakscope trusts (a key file, a checkpoint) for reading, under the same checks
 * as a file it writes. Returns null when the file does not exist.
 */
export async function openTrustedForReading(path: string, purpose: string): Promise<{ handle: FileHandle; stats: Stats } | null> {
  const shared = await checkFolders(path, purpose);
  let handle: FileHandle;
  try {
    handle = await open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return null;
    throw openError(path, purpose, error, 'reading');
  }
  try {
    const stats = await handle.stat();
    checkOpened(path, purpose, stats, shared);
    return { handle, stats };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** Reads a trusted file whole (see openTrustedForReading); null when it does not exist. */
export async function readTrustedFile(path: string, purpose: string): Promise<{ text: string; stats: Stats } | null> {
  const opened = await openTrustedForReading(path, purpose);
  if (opened === null) return null;
  try {
    return { text: await opened.handle.readFile('utf8'), stats: opened.stats };
  } catch (error) {
    throw new LeakscopeError('INPUT_UNREADABLE', `${purpose} ${path}: cannot read: ${messageOf(error)}`, { cause: error });
  } finally {
    await opened.handle.close();
  }
}

/**
 * Replaces `path` with `text` atomically: written and synced under a fresh random name in the
 * same folder (created exclusively, so nothing there can be a planted symlink), then renamed
 * over `path`. A crash leaves the old content or the new, never half. The old file, when there
 * is one, must itself pass the checks: rename would otherwise replace another user's file.
 */
export async function writeFileAtomically(path: string, text: string, options: { purpose: string; fileMode?: number }): Promise<void> {
  await checkExistingName(path, options.purpose);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await openForWriting(temp, { mode: 'create-new', purpose: options.purpose, ...(options.fileMode === undefined ? {} : { fileMode: options.fileMode }) });
  try {
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    if (error instanceof LeakscopeError) throw error;
    throw new LeakscopeError('INPUT_UNREADABLE', `${options.purpose} ${path}: cannot write: ${messageOf(error)}`, { cause: error });
  }
}

/** Refuses a name that exists as a symlink, as something other than a regular file, or owned by another user. */
export async function checkExistingName(path: string, purpose: string): Promise<void> {
  let stats: Stats;
  try {
    stats = await lstat(path);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return;
    throw new LeakscopeError('INPUT_UNREADABLE', `${purpose} ${path}: cannot be examined: ${messageOf(error)}`, { cause: error });
  }
  if (stats.isSymbolicLink()) throw symlinkError(path, purpose);
  checkOpened(path, purpose, stats);
}

// ---- The folders on the way to a file --------------------------------------------------------

/** As Linux's own bound on symlinks followed in one path lookup. */
const MAX_LINKS = 40;
const WRITABLE_BY_GROUP = 0o020;
const WRITABLE_BY_OTHERS = 0o002;
const STICKY = 0o1000;

/** Names or gids of groups trusted with the folder that holds a file (README "File safety"). */
export const TRUSTED_GROUPS_ENV = 'LEAKSCOPE_TRUSTED_GROUPS';

/**
 * Walks the folders `path` is reached through, as the kernel does (from `/` or the working
 * folder, each symlink followed to its target, `..` taken from the real folder), and refuses
 * (FILE_UNSAFE) a folder owned by anyone but root or the current user, a folder that others
 * may write unless it has the sticky bit (as /tmp), a folder its group may write (see
 * groupWritable), and a symlink on the way owned by anyone but root or the current user (in a
 * sticky folder, anyone could have made it). Then nobody else can swap a folder for a link
 * between this check and the open. A folder that does not exist ends the walk: the open itself
 * then fails. True when the folder holding the file may be written by a group trusted through
 * LEAKSCOPE_TRUSTED_GROUPS: the file itself must then have no other hard link.
 */
async function checkFolders(path: string, purpose: string): Promise<boolean> {
  const uid = process.getuid?.();
  if (uid === undefined) return false; // no owners to compare (Windows)
  const parts = (isAbsolute(path) ? path : `${process.cwd()}/${path}`).split('/');
  parts.pop(); // the file itself, checked on its descriptor
  let current = '/';
  /** A folder accepted only because its group is trusted: it must hold the file, so nothing is walked after it. */
  let trusted: string | null = await checkFolder(path, purpose, '/', await lstat('/'), uid);
  let links = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '' || part === '.') continue;
    if (trusted !== null) throw folderError(path, purpose, `${trusted}; a trusted group is trusted only with the folder that holds the file, not with the folders leakscope passes through`);
    if (part === '..') {
      current = dirname(current);
      continue;
    }
    const next = current === '/' ? `/${part}` : `${current}/${part}`;
    let stats: Stats;
    try {
      stats = await lstat(next);
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw new LeakscopeError('INPUT_UNREADABLE', `${purpose} ${path}: the folder ${next} cannot be examined: ${messageOf(error)}`, { cause: error });
    }
    if (stats.isSymbolicLink()) {
      if (stats.uid !== 0 && stats.uid !== uid) {
        throw folderError(path, purpose, `${next} is a symbolic link made by another user (uid ${stats.uid}); it could point anywhere`);
      }
      if (++links > MAX_LINKS) throw folderError(path, purpose, `more than ${MAX_LINKS} symbolic links on the way (a loop?)`);
      const target = await readlink(next);
      if (isAbsolute(target)) current = '/';
      parts.unshift(...target.split('/'));
      continue;
    }
    if (!stats.isDirectory()) return false; // the open fails with ENOTDIR
    trusted = await checkFolder(path, purpose, next, stats, uid);
    current = next;
  }
  return trusted !== null;
}

/** Refuses a folder others could change; a description of it when only a trusted group makes it acceptable, else null. */
async function checkFolder(path: string, purpose: string, folder: string, stats: Stats, uid: number): Promise<string | null> {
  if (stats.uid !== 0 && stats.uid !== uid) {
    throw folderError(path, purpose, `the folder ${folder} belongs to another user (uid ${stats.uid}), who could swap what is in it`);
  }
  if ((stats.mode & STICKY) !== 0) return null;
  const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
  if ((stats.mode & WRITABLE_BY_OTHERS) !== 0) {
    throw folderError(path, purpose, `the folder ${folder} may be written by anyone (mode ${mode}, no sticky bit), who could swap what is in it; chmod o-w it`);
  }
  if ((stats.mode & WRITABLE_BY_GROUP) === 0) return null;
  return groupWritable(path, purpose, folder, mode, stats.gid, uid);
}

/**
 * A folder its group may write (mode 0775, 2775) and without the sticky bit. Accepted as it
 * is when the group holds nobody but root and the current user (as /etc/group and /etc/passwd
 * list it: members, and users whose primary group it is), since the bit then lets nobody else
 * in. Accepted as the folder that holds the file when LEAKSCOPE_TRUSTED_GROUPS names the group
 * (the description is returned). Refused otherwise, naming the group and who is in it.
 */
async function groupWritable(path: string, purpose: string, folder: string, mode: string, gid: number, uid: number): Promise<string | null> {
  const table = await readGroupTable();
  const group = table.groups.get(gid);
  const users = group === undefined ? null : [...group.users];
  if (users !== null && users.every((name) => table.uidOf.get(name) === 0 || table.uidOf.get(name) === uid)) return null;
  const name = group?.name ?? String(gid);
  const described = `the folder ${folder} may be written by its group ${name} (gid ${gid}, mode ${mode}, no sticky bit)`;
  if (trustedGroups(table).has(gid)) return described;
  const who = users === null ? 'which /etc/group does not list' : `which holds ${users.join(', ')}`;
  throw folderError(path, purpose, `${described}, ${who}; its members could swap what is in it: chmod g-w or chmod +t it, ` +
    `or set ${TRUSTED_GROUPS_ENV}=${name} to trust that group with the folder holding the file`);
}

interface GroupTable {
  /** gid → name and the users in it: its listed members and the users whose primary group it is. */
  readonly groups: ReadonlyMap<number, { name: string; users: Set<string> }>;
  readonly uidOf: ReadonlyMap<string, number>;
}

/** /etc/group and /etc/passwd, read when a group-writable folder is met (rarely: not cached, so never stale). */
async function readGroupTable(): Promise<GroupTable> {
  const read = (file: string): Promise<string> => readFile(file, 'utf8').catch(() => '');
  const [groupText, passwdText] = await Promise.all([read('/etc/group'), read('/etc/passwd')]);
  const groups = new Map<number, { name: string; users: Set<string> }>();
  for (const line of groupText.split('\n')) {
    const [name, , gid, members] = line.split(':');
    if (name === undefined || name === '' || gid === undefined || !/^\d+$/.test(gid) || groups.has(Number(gid))) continue;
    groups.set(Number(gid), { name, users: new Set((members ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '')) });
  }
  const uidOf = new Map<string, number>();
  for (const line of passwdText.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === undefined || name === '' || uid === undefined || !/^\d+$/.test(uid)) continue;
    uidOf.set(name, Number(uid));
    if (gid !== undefined && /^\d+$/.test(gid)) groups.get(Number(gid))?.users.add(name);
  }
  return { groups, uidOf };
}

/** The gids LEAKSCOPE_TRUSTED_GROUPS names (group names or gids, comma-separated); a name no group has is refused. */
function trustedGroups(table: GroupTable): Set<number> {
  const trusted = new Set<number>();
  for (const entry of (process.env[TRUSTED_GROUPS_ENV] ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const byName = [...table.groups].find(([, g]) => g.name === entry)?.[0];
    const gid = byName ?? (/^\d+$/.test(entry) ? Number(entry) : undefined);
    if (gid === undefined) throw new LeakscopeError('CONFIG_INVALID', `${TRUSTED_GROUPS_ENV}: no group is named ${JSON.stringify(entry)} in /etc/group; give group names or gids, comma-separated`);
    trusted.add(gid);
  }
  return trusted;
}

function folderError(path: string, purpose: string, why: string): LeakscopeError {
  return new LeakscopeError('FILE_UNSAFE', `${purpose} ${path}: ${why}; leakscope writes and trusts files only in folders nobody else can change: use a folder of your own`);
}

// ---- Outputs that must not land on the investigator's own files -----------------------------

export interface ProtectedFile {
  path: string;
  /** What it is, for the message: `the store`, `the store's key file`. */
  what: string;
}

/** The files that belong to a DuckDB store: itself, its write-ahead log, key, rejects, audit and watch's dead-letter files. */
export function storeFiles(db: string): ProtectedFile[] {
  return [
    { path: db, what: 'the store' },
    { path: `${db}.wal`, what: 'the store\'s write-ahead log' },
    { path: `${db}.keys.json`, what: 'the store\'s key file' },
    { path: `${db}.rejects.ndjson`, what: 'the store\'s rejects file' },
    { path: `${db}.audit.ndjson`, what: 'the store\'s audit log' },
    { path: `${db}.alerts-dlq.ndjson`, what: 'watch\'s alerts dead-letter file' },
  ];
}

/**
 * Refuses `output` (FILE_UNSAFE) when it is one of `files` under any spelling: the same
 * absolute path once `.`, `..` and symlinked folders are resolved, or, where both exist, the
 * same file (device and inode: a hard link, a bind mount).
 */
export async function refuseProtectedOutput(output: string, files: readonly ProtectedFile[], flag: string): Promise<void> {
  const outName = await canonicalName(output);
  const outId = await identity(output);
  for (const file of files) {
    const sameName = outName === (await canonicalName(file.path));
    const id = outId === null ? null : await identity(file.path);
    if (sameName || (id !== null && id === outId)) {
      throw new LeakscopeError('FILE_UNSAFE',
        `${flag} ${output} is ${file.what} (${file.path}): refusing to overwrite it; write the output to another file`);
    }
  }
}

async function canonicalName(path: string): Promise<string> {
  const absolute = resolve(path);
  try {
    return await realpath(absolute);
  } catch {
    // The file does not exist (yet): its folder's real path, then its name.
    try {
      return join(await realpath(dirname(absolute)), basename(absolute));
    } catch {
      return absolute;
    }
  }
}

async function identity(path: string): Promise<string | null> {
  try {
    const s = await stat(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return null;
  }
}

// ---- Checks and messages --------------------------------------------------------------------

/** `shared`: the folder holding the file may be written by a trusted group, who could plant a hard link there. */
function checkOpened(path: string, purpose: string, stats: Stats, shared = false): void {
  if (!stats.isFile()) {
    throw new LeakscopeError('FILE_UNSAFE', `${purpose} ${path}: not a regular file (${kindOf(stats)}); give the path of a regular file`);
  }
  if (shared && stats.nlink > 1) {
    throw new LeakscopeError('FILE_UNSAFE',
      `${purpose} ${path}: has ${stats.nlink} hard links, in a folder its group may write; a member could have linked another file here: remove it, or use a folder of your own`);
  }
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) {
    throw new LeakscopeError('FILE_UNSAFE',
      `${purpose} ${path}: owned by another user (uid ${stats.uid}, this process runs as uid ${uid}); ` +
      'leakscope writes and trusts only its own files: remove it, or use another path');
  }
}

function openError(path: string, purpose: string, error: unknown, doing: 'reading' | 'writing'): LeakscopeError {
  const code = errnoOf(error);
  // O_NOFOLLOW gives ELOOP for a symlink at the last component.
  if (code === 'ELOOP') return symlinkError(path, purpose);
  if (code === 'ENXIO') return new LeakscopeError('FILE_UNSAFE', `${purpose} ${path}: a FIFO or socket, not a regular file; give the path of a regular file`, { cause: error });
  if (code === 'EISDIR') return new LeakscopeError('FILE_UNSAFE', `${purpose} ${path}: a directory, not a regular file; give the path of a file`, { cause: error });
  if (code === 'EEXIST') return new LeakscopeError('FILE_UNSAFE', `${purpose} ${path}: already exists; it is never overwritten`, { cause: error });
  return new LeakscopeError('INPUT_UNREADABLE', `${purpose} ${path}: cannot open for ${doing}: ${messageOf(error)}`, { cause: error });
}

function symlinkError(path: string, purpose: string): LeakscopeError {
  return new LeakscopeError('FILE_UNSAFE',
    `${purpose} ${path}: is a symbolic link; leakscope never writes or trusts a file through a link (it could point at any file): give the real path`);
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return 'not a file';
}

function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as NodeJS.ErrnoException).code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
