import { chmod, mkdtemp, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  formatUsers, looksLikeToken, newToken, parseUsers, readUsersFile, roleAtLeast, tokenHash, userOfToken, writeUsersFile, type User,
} from '../../../services/users/index.js';
import { run } from '../cli/query-fixture.js';

const tmp = () => mkdtemp(join(tmpdir(), 'leakscope-users-'));

describe('tokens', () => {
  it('are 256 random bits with a recognisable prefix, never the same twice', () => {
    const tokens = new Set(Array.from({ length: 100 }, newToken));
    expect(tokens.size).toBe(100);
    for (const t of tokens) {
      expect(looksLikeToken(t)).toBe(true);
      expect(Buffer.from(t.slice(4), 'base64url').length).toBe(32);
    }
  });

  it('find their user by hash, and nothing for another or a malformed token', () => {
    const [a, b] = [newToken(), newToken()];
    const users: User[] = [{ name: 'a', role: 'viewer', tokenSha256: tokenHash(a), created: '2026-01-01T00:00:00Z' }];
    expect(userOfToken(users, a)?.name).toBe('a');
    expect(userOfToken(users, b)).toBeNull();
    expect(userOfToken(users, 'Bearer x')).toBeNull();
  });
});

describe('roles', () => {
  it('rank viewer < investigator < privacy_officer < admin', () => {
    expect([roleAtLeast('viewer', 'investigator'), roleAtLeast('investigator', 'investigator'), roleAtLeast('admin', 'privacy_officer')]).toEqual([false, true, true]);
  });
});

describe('the users file', () => {
  it('round-trips, is written owner-only and never holds the token', async () => {
    const path = join(await tmp(), 'users.yaml');
    const token = newToken();
    const users: User[] = [{ name: 'alice', role: 'investigator', tokenSha256: tokenHash(token), created: '2026-01-01T00:00:00.000Z' }];
    await writeUsersFile(path, users);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).not.toContain(token.slice(4));
    expect(await readUsersFile(path)).toEqual(users);
  });

  it('names every problem of a bad file', () => {
    const text = 'version: 2\nusers:\n  - name: "bad name"\n    role: boss\n    token_sha256: xyz\n    created: never\n    extra: 1\n';
    expect(() => parseUsers(text, 'u.yaml')).toThrow(expect.objectContaining({
      code: 'CONFIG_INVALID',
      problems: expect.arrayContaining([
        expect.stringMatching(/^version/), expect.stringMatching(/users\[0\]\.name/), expect.stringMatching(/users\[0\]\.role/),
        expect.stringMatching(/users\[0\]\.token_sha256/), expect.stringMatching(/users\[0\]\.created/), expect.stringMatching(/users\[0\]\.extra/),
      ]),
    }));
  });

  it('is refused when others may write it, or when it is a symbolic link', async () => {
    const dir = await tmp();
    const path = join(dir, 'users.yaml');
    await writeFile(path, formatUsers([]), { mode: 0o600 });
    await chmod(path, 0o666);
    await expect(readUsersFile(path)).rejects.toThrow(/may be written by group or others/);
    await chmod(path, 0o600);
    await symlink(path, join(dir, 'link.yaml'));
    await expect(readUsersFile(join(dir, 'link.yaml'))).rejects.toThrow(/symbolic link/);
  });

  it('is managed by users add (token alone on stdout), list and remove', async () => {
    const path = join(await tmp(), 'u.yaml');
    const added = await run(['users', 'add', 'bob', '--role', 'privacy_officer', '--users', path]);
    expect([added.code, looksLikeToken(added.stdout.trim()), added.stdout.endsWith('\n'), added.stdout.trim().split('\n').length]).toEqual([0, true, true, 1]);
    expect(userOfToken(await readUsersFile(path), added.stdout.trim())?.role).toBe('privacy_officer');
    expect((await run(['users', 'add', 'bob', '--role', 'viewer', '--users', path])).code).toBe(2);
    expect((await run(['users', 'add', 'eve', '--role', 'root', '--users', path])).stderr).toMatch(/one of viewer, investigator, privacy_officer, admin/);
    expect((await run(['users', 'list', '--users', path])).stdout).toMatch(/^name\s+role\s+created\nbob\s+privacy_officer\s+\d{4}-/);
    expect((await run(['users', 'remove', 'bob', '--users', path])).code).toBe(0);
    expect(await readUsersFile(path)).toEqual([]);
  });
});
