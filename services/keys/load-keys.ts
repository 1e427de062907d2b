// Loads the privacy keys: from the environment (LEAKSCOPE_HASH_KEY, LEAKSCOPE_ENC_KEY), else
// from a key file, which the embedded default creates with owner-only permissions. Only this
// module reads key material from env or disk; the privacy core receives Buffers. A key file
// is trusted only when it is a regular file of the current user's, not reached through a
// symlink: data encrypted with a key someone else holds is readable by them (README "File safety").

import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { link, lstat, mkdir, open, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { LeakscopeError } from '../core/errors.js';
import { configProblems } from '../config/index.js';
import { OWNER_ONLY_MODE, openForWriting, readTrustedFile } from '../files/safe-file.js';
import { KEY_BYTES, type PrivacyKeys } from '../core/privacy/index.js';

export const HASH_KEY_ENV = 'LEAKSCOPE_HASH_KEY';
export const ENC_KEY_ENV = 'LEAKSCOPE_ENC_KEY';

export interface LoadKeysOptions {
  /** Where LEAKSCOPE_HASH_KEY / LEAKSCOPE_ENC_KEY are read; usually `process.env`. */
  env: Readonly<Record<string, string | undefined>>;
  /** Key file path, used when the environment has no hash key; the caller picks the default (next to the DuckDB file). */
  keyFile?: string | null;
  /** Create the key file with fresh random keys when it does not exist (the embedded default). */
  createIfMissing: boolean;
}

export interface LoadedKeys {
  keys: PrivacyKeys;
  /** True when this call created the key file; the caller should say so (and where). */
  created: boolean;
  /** The key file the keys came from, or null when they came from the environment. */
  keyFile: string | null;
  source: 'env' | 'file';
  /** Problems that did not stop loading (a key file readable by others, …); the caller logs them. */
  warnings: string[];
}

interface KeyFileContent {
  version: 1;
  hash_key: string;
  enc_key?: string | null;
}

const KeyFileSchema = Type.Object({
  version: Type.Literal(1),
  /** The HMAC key of subscriber lookups. */
  hash_key: Type.String(),
  /** The AES-256-GCM key of the encrypted numbers; absent or null: numbers are not stored encrypted. */
  enc_key: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'] })),
}, { additionalProperties: false });
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
// Standard or URL-safe base64 of 32 bytes: 43 characters, then an optional '='.
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=?$|^[A-Za-z0-9_-]{43}=?$/;
const EXPECTED = `64 hex characters or base64 of ${KEY_BYTES} bytes`;

/**
 * Parses one key. The message names the key and what was expected, never the value (it is a secret).
 * `where` is the variable name or `<file>: hash_key`.
 */
export function parseKey(value: string, where: string): Buffer {
  const text = value.trim();
  if (HEX_KEY.test(text)) return Buffer.from(text, 'hex');
  if (BASE64_KEY.test(text)) {
    const key = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  throw new LeakscopeError('KEY_INVALID', `${where}: expected ${EXPECTED}, got ${text.length} characters that are neither`);
}

function keyWarnings(keys: PrivacyKeys, where: string): string[] {
  const warnings: string[] = [];
  if (keys.encKey !== null && keys.encKey.equals(keys.hashKey)) {
    warnings.push(`${where}: the hash key and the encryption key are the same; use two independent random keys`);
  }
  if (keys.encKey === null) {
    warnings.push(`${where}: no encryption key, so subscribers are stored without their encrypted number and export-affected cannot list them`);
  }
  return warnings;
}

/** Keys from env when LEAKSCOPE_HASH_KEY is set, else from the key file (created on request). */
export async function loadKeys(options: LoadKeysOptions): Promise<LoadedKeys> {
  const hashText = nonEmpty(options.env[HASH_KEY_ENV]);
  const encText = nonEmpty(options.env[ENC_KEY_ENV]);
  const keyFile = options.keyFile ?? null;

  if (hashText !== null) {
    const keys = Object.freeze({
      hashKey: parseKey(hashText, HASH_KEY_ENV),
      encKey: encText === null ? null : parseKey(encText, ENC_KEY_ENV),
    });
    const warnings = keyWarnings(keys, 'environment');
    // Mixing sources would give hashes that silently fail to match: the environment wins whole.
    if (keyFile !== null && (await exists(keyFile))) {
      warnings.push(`${keyFile}: ignored, because ${HASH_KEY_ENV} is set in the environment`);
    }
    return { keys, created: false, keyFile: null, source: 'env', warnings };
  }
  if (encText !== null) {
    throw new LeakscopeError('KEY_INVALID', `${ENC_KEY_ENV} is set but ${HASH_KEY_ENV} is not: set both, or the hash key alone`);
  }
  if (keyFile === null) {
    throw new LeakscopeError('KEY_INVALID', `no privacy keys: set ${HASH_KEY_ENV} (and ${ENC_KEY_ENV} for export), or use a key file`);
  }

  let created = false;
  if (!(await exists(keyFile))) {
    if (!options.createIfMissing) {
      throw new LeakscopeError('KEY_INVALID', `${keyFile}: key file not found; set ${HASH_KEY_ENV} or create the key file`);
    }
    created = await createKeyFile(keyFile);
  }
  const { keys, warnings } = await readKeyFile(keyFile);
  return { keys, created, keyFile, source: 'file', warnings };
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value.trim() === '' ? null : value;
}

/** Whether the name exists; a symlink counts (reading it is then refused, never followed). */
async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw new LeakscopeError('KEY_INVALID', `${path}: key file cannot be read: ${errorMessage(error)}`, { cause: error });
  }
}

/**
 * Reads and validates a key file. A symlink, or a file owned by another user, is refused
 * (FILE_UNSAFE: its owner knows the key, or can swap it). Group- or world-writable is refused
 * (anyone could swap in a key they know and read every number encrypted afterwards); group- or
 * world-readable is a warning, since the secret is already exposed and refusing would only
 * stop the investigation.
 */
export async function readKeyFile(path: string): Promise<{ keys: PrivacyKeys; warnings: string[] }> {
  const warnings: string[] = [];
  const read = await readTrustedFile(path, 'key file');
  if (read === null) throw new LeakscopeError('KEY_INVALID', `${path}: key file not found; set ${HASH_KEY_ENV} or create the key file`);
  const text = read.text;
  const mode = read.stats.mode & 0o777;
  if ((mode & 0o022) !== 0) {
    throw new LeakscopeError('KEY_INVALID', `${path}: key file is writable by group or others (mode ${octal(mode)}); run chmod 600 ${path}`);
  }
  if ((mode & 0o044) !== 0) {
    warnings.push(`${path}: key file is readable by group or others (mode ${octal(mode)}); run chmod 600 ${path}`);
  }

  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch (cause) {
    throw new LeakscopeError('KEY_INVALID', `${path}: key file is not JSON (expected {"version":1,"hash_key":"<hex>","enc_key":"<hex>"})`, { cause });
  }
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    throw new LeakscopeError('KEY_INVALID', `${path}: key file must hold a JSON object {"version":1,"hash_key":…,"enc_key":…}`);
  }
  const record = content as Record<string, unknown>;
  // The structure is checked by its schema; the messages never show a value (they are secrets).
  const problems = configProblems(KeyFileSchema, { ...record }).map((p) => `${path}: ${p.path}: ${p.message}`);
  let hashKey: Buffer | null = null;
  let encKey: Buffer | null = null;
  const collect = (field: 'hash_key' | 'enc_key'): Buffer | null => {
    const value = record[field];
    if (typeof value !== 'string') return null;
    try {
      return parseKey(value, `${path}: ${field}`);
    } catch (error) {
      problems.push((error as Error).message);
      return null;
    }
  };
  hashKey = collect('hash_key');
  encKey = collect('enc_key');
  if (problems.length > 0 || hashKey === null) {
    throw new LeakscopeError('KEY_INVALID', `${path}: key file is invalid: ${problems.join('; ')}`, { problems });
  }
  const keys = Object.freeze({ hashKey, encKey });
  return { keys, warnings: [...warnings, ...keyWarnings(keys, path)] };
}

/**
 * Creates the key file with fresh random keys, mode 0600, atomically and without ever
 * overwriting: the content is written and synced under a temporary name, then hard-linked to
 * the final name (link fails if the name exists, where rename would replace it). Returns false
 * when another process created the file first; its keys are then the ones used.
 */
export async function createKeyFile(path: string): Promise<boolean> {
  const dir = dirname(path);
  const content: KeyFileContent = {
    version: 1,
    hash_key: randomBytes(KEY_BYTES).toString('hex'),
    enc_key: randomBytes(KEY_BYTES).toString('hex'),
  };
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const handle = await openForWriting(temp, { mode: 'create-new', purpose: 'key file', fileMode: OWNER_ONLY_MODE });
    try {
      await handle.writeFile(JSON.stringify(content, null, 2) + '\n', 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, path);
    } catch (error) {
      if (isErrno(error, 'EEXIST')) return false;
      if (!LINK_UNSUPPORTED.some((code) => isErrno(error, code))) throw error;
      // A file system without hard links (FAT, some network mounts): exclusive create of the
      // final name still never overwrites, though a reader racing the write may see it partial.
      return await createExclusive(path, content);
    }
    await syncDir(dir);
    return true;
  } catch (error) {
    if (error instanceof LeakscopeError) throw error;
    throw new LeakscopeError('KEY_INVALID', `${path}: could not create the key file: ${errorMessage(error)}`, { cause: error });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

const LINK_UNSUPPORTED = ['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'];

async function createExclusive(path: string, content: KeyFileContent): Promise<boolean> {
  let handle;
  try {
    handle = await openForWriting(path, { mode: 'create-new', purpose: 'key file', fileMode: OWNER_ONLY_MODE });
  } catch (error) {
    if (isErrno((error as { cause?: unknown }).cause, 'EEXIST')) return false;
    throw error;
  }
  try {
    await handle.writeFile(JSON.stringify(content, null, 2) + '\n', 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

async function syncDir(dir: string): Promise<void> {
  // Makes the new name durable; not every platform can open a directory, which is harmless.
  try {
    const handle = await open(dir, fsConstants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* best effort */
  }
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === code;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function octal(mode: number): string {
  return '0' + mode.toString(8).padStart(3, '0');
}
