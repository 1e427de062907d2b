// The users file of `leakscope users` and `leakscope serve`: YAML with each user's name, role
// and the SHA-256 of its token (never the token). It decides who may read whose data, so it
// is owner-only (0600), replaced atomically, and refused when it is a symbolic link, not
// owned by the user running leakscope, or writable by anyone else.
import { constants as fsConstants } from 'node:fs';
import { lstat, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { LeakscopeError } from '../core/errors.js';
import { isRole, ROLES, type Role } from './roles.js';
import { looksLikeToken, sameDigest, tokenHash } from './tokens.js';

export const DEFAULT_USERS_FILE = 'leakscope.users.yaml';
export const USERS_FILE_MODE = 0o600;

export interface User {
  name: string;
  role: Role;
  /** SHA-256 hex of the token. */
  tokenSha256: string;
  /** When the user was added, ISO-8601. */
  created: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HEX_DIGEST = /^[0-9a-f]{64}$/;
const USER_FIELDS = new Set(['name', 'role', 'token_sha256', 'created']);

export function checkUserName(name: string): string {
  if (!NAME.test(name)) {
    throw new LeakscopeError('USAGE', `user name ${JSON.stringify(name)}: expected 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return name;
}

/** Parses the file's text; every problem is named by its path. */
export function parseUsers(text: string, path: string): User[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (cause) {
    throw new LeakscopeError('CONFIG_INVALID', `users file ${path} is not YAML: ${(cause as Error).message.split('\n', 1)[0]}`, { cause });
  }
  const problems: string[] = [];
  const users: User[] = [];
  if (doc === null || doc === undefined) return users;
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new LeakscopeError('CONFIG_INVALID', `users file ${path} is invalid`, { problems: ['(root): expected a mapping with version and users'] });
  }
  const root = doc as Record<string, unknown>;
  for (const key of Object.keys(root)) if (key !== 'version' && key !== 'users') problems.push(`${key}: unknown key (expected version, users)`);
  if (root['version'] !== 1) problems.push(`version: expected 1, got ${JSON.stringify(root['version'])}`);
  const list = root['users'] ?? [];
  if (!Array.isArray(list)) problems.push('users: expected a list');
  const seen = new Set<string>();
  for (const [i, item] of (Array.isArray(list) ? list : []).entries()) {
    const at = `users[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push(`${at}: expected a mapping with name, role, token_sha256, created`);
      continue;
    }
    const u = item as Record<string, unknown>;
    for (const key of Object.keys(u)) if (!USER_FIELDS.has(key)) problems.push(`${at}.${key}: unknown key`);
    const name = u['name'];
    if (typeof name !== 'string' || !NAME.test(name)) problems.push(`${at}.name: expected a user name, got ${JSON.stringify(name)}`);
    else if (seen.has(name)) problems.push(`${at}.name: ${name} appears twice`);
    else seen.add(name);
    if (!isRole(u['role'])) problems.push(`${at}.role: expected one of ${ROLES.join(', ')}, got ${JSON.stringify(u['role'])}`);
    if (typeof u['token_sha256'] !== 'string' || !HEX_DIGEST.test(u['token_sha256'])) problems.push(`${at}.token_sha256: expected 64 lower-case hex characters`);
    if (typeof u['created'] !== 'string' || Number.isNaN(Date.parse(u['created']))) problems.push(`${at}.created: expected an ISO-8601 time`);
    if (typeof name === 'string' && isRole(u['role']) && typeof u['token_sha256'] === 'string' && typeof u['created'] === 'string') {
      users.push({ name, role: u['role'], tokenSha256: u['token_sha256'], created: u['created'] });
    }
  }
  if (problems.length > 0) {
    throw new LeakscopeError('CONFIG_INVALID', `users file ${path} is invalid: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, { problems });
  }
  return users;
}

export function formatUsers(users: readonly User[]): string {
  const header = '# leakscope users: names, roles and the SHA-256 of each token (never the token).\n' +
    '# Managed by `leakscope users add|list|remove`; keep it owner-only (mode 0600).\n';
  return header + stringifyYaml({
    version: 1,
    users: users.map((u) => ({ name: u.name, role: u.role, token_sha256: u.tokenSha256, created: u.created })),
  });
}

/**
 * Reads the users file. A missing file is an empty list when `allowMissing` (users add),
 * else refused. Refused too: a symbolic link, a file of another owner, a file that group or
 * others may write (they could give themselves a role).
 */
export async function readUsersFile(path: string, options: { allowMissing?: boolean } = {}): Promise<User[]> {
  let handle;
  try {
    handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && options.allowMissing) return [];
    if (code === 'ENOENT') {
      throw new LeakscopeError('CONFIG_INVALID', `no users file at ${path}: create a user first with leakscope users add NAME --role ROLE --users ${path}`);
    }
    if (code === 'ELOOP') throw new LeakscopeError('CONFIG_INVALID', `users file ${path} is a symbolic link: refused; point --users at the file itself`);
    throw new LeakscopeError('CONFIG_INVALID', `cannot read the users file ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new LeakscopeError('CONFIG_INVALID', `users file ${path} is not a regular file`);
    if (typeof process.getuid === 'function' && info.uid !== process.getuid()) {
      throw new LeakscopeError('CONFIG_INVALID', `users file ${path} belongs to uid ${info.uid}, not to the user running leakscope (${process.getuid()}): refused`);
    }
    if ((info.mode & 0o022) !== 0) {
      throw new LeakscopeError('CONFIG_INVALID',
        `users file ${path} may be written by group or others (mode ${(info.mode & 0o777).toString(8)}): refused; run chmod 600 ${path}`);
    }
    return parseUsers(await handle.readFile('utf8'), path);
  } finally {
    await handle.close();
  }
}

/** Replaces the users file atomically (temp file in the same directory, then rename), mode 0600. */
export async function writeUsersFile(path: string, users: readonly User[]): Promise<void> {
  try {
    const existing = await lstat(path);
    if (existing.isSymbolicLink()) throw new LeakscopeError('CONFIG_INVALID', `users file ${path} is a symbolic link: refused`);
  } catch (cause) {
    if (cause instanceof LeakscopeError) throw cause;
    if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
  }
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, USERS_FILE_MODE);
  try {
    await handle.chmod(USERS_FILE_MODE);
    await handle.writeFile(formatUsers(users), 'utf8');
    await handle.sync();
  } catch (cause) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw cause;
  }
  await handle.close();
  await rename(temp, path);
}

/**
 * Finds the user of a presented token. Every user's digest is compared in constant time,
 * and all of them are compared, so the time taken says nothing about which one matched.
 */
export function userOfToken(users: readonly User[], token: string): User | null {
  if (!looksLikeToken(token)) return null;
  const digest = tokenHash(token);
  let found: User | null = null;
  for (const user of users) if (sameDigest(user.tokenSha256, digest) && found === null) found = user;
  return found;
}
