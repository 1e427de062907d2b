import { link, lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile, chmod } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeakscopeError, type ErrorCode } from '../../../services/core/errors.js';
import {
  OWNER_ONLY_MODE, openForWriting, readTrustedFile, refuseProtectedOutput, storeFiles, writeFileAtomically,
} from '../../../services/files/safe-file.js';
import { giveGroupToOthers, giveToOtherUser, OTHER_GID, writeOthersFile } from '../support/other-user.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'leakscope-safe-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

async function refusal(promise: Promise<unknown>): Promise<{ code: ErrorCode; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LeakscopeError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

async function write(path: string, mode: 'append' | 'truncate' | 'create-new', text: string): Promise<void> {
  const handle = await openForWriting(path, { mode, purpose: 'the test file' });
  try {
    await handle.writeFile(text, 'utf8');
  } finally {
    await handle.close();
  }
}

describe('openForWriting', () => {
  it.each(['append', 'truncate', 'create-new'] as const)('refuses a symlink in %s mode and leaves its target untouched', async (mode) => {
    const target = join(dir, 'victim');
    await writeFile(target, 'precious', { mode: 0o644 });
    await symlink(target, join(dir, 'link'));
    const r = await refusal(write(join(dir, 'link'), mode, 'x'));
    expect(r.code).toBe('FILE_UNSAFE');
    expect(r.message).toContain('is a symbolic link');
    expect(await readFile(target, 'utf8')).toBe('precious');
    expect((await stat(target)).mode & 0o777).toBe(0o644);
  });

  it('refuses a dangling symlink instead of creating its target', async () => {
    await symlink(join(dir, 'would-be-created'), join(dir, 'link'));
    expect((await refusal(write(join(dir, 'link'), 'append', 'x'))).code).toBe('FILE_UNSAFE');
    await expect(lstat(join(dir, 'would-be-created'))).rejects.toThrow(/ENOENT/);
  });

  it.each(['append', 'truncate'] as const)('refuses in %s mode a file owned by another user, without changing its content or mode', async (mode) => {
    const theirs = join(dir, 'theirs');
    await writeOthersFile(theirs, 'their data', 0o644);
    const r = await refusal(write(theirs, mode, 'x'));
    expect(r.code).toBe('FILE_UNSAFE');
    expect(r.message).toMatch(/owned by another user \(uid 65534/);
    expect(await readFile(theirs, 'utf8')).toBe('their data');
    expect((await stat(theirs)).mode & 0o777).toBe(0o644);
  });

  it('refuses a FIFO without blocking on it, and a directory', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(await refusal(write(fifo, 'append', 'x'))).toMatchObject({ code: 'FILE_UNSAFE', message: expect.stringContaining('FIFO') });
    await mkdir(join(dir, 'sub'));
    expect((await refusal(write(join(dir, 'sub'), 'truncate', 'x'))).code).toBe('FILE_UNSAFE');
  });

  it('narrows an own file to owner-only before writing, truncates or appends as asked', async () => {
    const own = join(dir, 'own');
    await writeFile(own, 'old\n');
    await chmod(own, 0o644);
    await write(own, 'append', 'new\n');
    expect(await readFile(own, 'utf8')).toBe('old\nnew\n');
    expect((await stat(own)).mode & 0o777).toBe(OWNER_ONLY_MODE);
    await write(own, 'truncate', 'only\n');
    expect(await readFile(own, 'utf8')).toBe('only\n');
    expect((await refusal(write(own, 'create-new', 'x'))).message).toContain('already exists');
  });

  it('creates a missing file owner-only whatever the umask', async () => {
    const old = process.umask(0o000);
    try {
      await write(join(dir, 'fresh'), 'truncate', 'x');
    } finally {
      process.umask(old);
    }
    expect((await stat(join(dir, 'fresh'))).mode & 0o777).toBe(0o600);
  });
});

describe('the folders on the way to a file', () => {
  /** A folder under the test's own, with exactly this mode (mkdir's is narrowed by the umask). */
  async function folder(name: string, mode: number): Promise<string> {
    const path = join(dir, name);
    await mkdir(path);
    await chmod(path, mode);
    return path;
  }

  it('refuses a folder that belongs to another user, and creates nothing in it', async () => {
    const theirs = await folder('theirs', 0o755);
    await giveToOtherUser(theirs);
    const r = await refusal(write(join(theirs, 'out.csv'), 'truncate', 'x'));
    expect(r.code).toBe('FILE_UNSAFE');
    expect(r.message).toContain(`the folder ${theirs} belongs to another user (uid 65534)`);
    expect(await readdir(theirs)).toEqual([]);
  });

  it('refuses a folder that anyone may write, without the sticky bit', async () => {
    const shared = await folder('shared', 0o777);
    const r = await refusal(write(join(shared, 'sub', '..', 'out.csv'), 'append', 'x'));
    expect(r.code).toBe('FILE_UNSAFE');
    expect(r.message).toContain(`the folder ${shared} may be written by anyone (mode 0777, no sticky bit)`);
    expect(await readdir(shared)).toEqual([]);
  });

  /** A folder of root's whose group is "nogroup", which holds other users (nobody, by their primary group). */
  async function groupFolder(name: string, mode: number, under = dir): Promise<string> {
    const path = join(under, name);
    await mkdir(path);
    await giveGroupToOthers(path);
    await chmod(path, mode); // after chown, which clears the setgid bit
    return path;
  }

  it.each([['0775', 0o775], ['2775', 0o2775]])('refuses a folder of mode %s whose group holds other users, naming the group, its users and the fixes', async (_mode, mode) => {
    const shared = await groupFolder('shared', mode);
    const r = await refusal(write(join(shared, 'out.csv'), 'append', 'x'));
    expect(r.code).toBe('FILE_UNSAFE');
    expect(r.message).toContain(`the folder ${shared} may be written by its group nogroup (gid ${OTHER_GID}, mode ${mode.toString(8).padStart(4, '0')}, no sticky bit), which holds `);
    expect(r.message).toMatch(/which holds [^;]*\bnobody\b/);
    expect(r.message).toContain('chmod g-w or chmod +t it, or set LEAKSCOPE_TRUSTED_GROUPS=nogroup to trust that group with the folder holding the file');
    expect(await readdir(shared)).toEqual([]);
  });

  it('writes in a group-writable folder whose group holds nobody but root and the user (root\'s group here)', async () => {
    const ours = await folder('ours', 0o2775);
    expect((await stat(ours)).gid).toBe(process.getgid?.());
    await write(join(ours, 'sub-free.csv'), 'create-new', 'mine');
    const deeper = await folder('ours/deeper', 0o700);
    await write(join(deeper, 'out.csv'), 'create-new', 'mine too');
    expect(await readFile(join(deeper, 'out.csv'), 'utf8')).toBe('mine too');
  });

  describe('with LEAKSCOPE_TRUSTED_GROUPS', () => {
    afterEach(() => { delete process.env.LEAKSCOPE_TRUSTED_GROUPS; });

    it.each(['nogroup', `root,${OTHER_GID}`])('writes in the folder holding the file when it names its group (%s)', async (trusted) => {
      process.env.LEAKSCOPE_TRUSTED_GROUPS = trusted;
      const shared = await groupFolder('shared', 0o2775);
      await write(join(shared, 'out.csv'), 'create-new', 'mine');
      await writeFileAtomically(join(shared, 'checkpoint.json'), '{}', { purpose: 'the checkpoint' });
      expect([await readFile(join(shared, 'out.csv'), 'utf8'), (await readTrustedFile(join(shared, 'checkpoint.json'), 'the checkpoint'))?.text]).toEqual(['mine', '{}']);
    });

    it('still refuses that folder on the way to another one, where a member could swap the next folder for a link', async () => {
      process.env.LEAKSCOPE_TRUSTED_GROUPS = 'nogroup';
      const shared = await groupFolder('shared', 0o2775);
      const sub = await folder('shared/sub', 0o700);
      for (const path of [join(sub, 'out.csv'), `${sub}/../out.csv`]) {
        const r = await refusal(write(path, 'create-new', 'x'));
        expect(r.code).toBe('FILE_UNSAFE');
        expect(r.message).toContain(`the folder ${shared} may be written by its group nogroup`);
        expect(r.message).toContain('a trusted group is trusted only with the folder that holds the file');
      }
      expect([await readdir(shared), await readdir(sub)]).toEqual([['sub'], []]);
    });

    it('refuses there a file with another hard link, which a member could have planted, and leaves it unchanged', async () => {
      process.env.LEAKSCOPE_TRUSTED_GROUPS = 'nogroup';
      const precious = join(dir, 'precious');
      await writeFile(precious, 'precious', { mode: 0o644 });
      const shared = await groupFolder('shared', 0o2775);
      await link(precious, join(shared, 'out.csv'));
      for (const mode of ['append', 'truncate'] as const) {
        const r = await refusal(write(join(shared, 'out.csv'), mode, 'x'));
        expect(r.code).toBe('FILE_UNSAFE');
        expect(r.message).toContain('has 2 hard links, in a folder its group may write');
      }
      expect([await readFile(precious, 'utf8'), (await stat(precious)).mode & 0o777]).toEqual(['precious', 0o644]);
    });

    it('refuses a group name that does not exist, rather than trust nothing silently', async () => {
      process.env.LEAKSCOPE_TRUSTED_GROUPS = 'no-such-group-x';
      const shared = await groupFolder('shared', 0o2775);
      const r = await refusal(write(join(shared, 'out.csv'), 'create-new', 'x'));
      expect(r).toEqual({ code: 'CONFIG_INVALID', message: 'LEAKSCOPE_TRUSTED_GROUPS: no group is named "no-such-group-x" in /etc/group; give group names or gids, comma-separated' });
    });
  });

  it('writes in a folder that anyone may write but that has the sticky bit, as /tmp', async () => {
    const sticky = await folder('sticky', 0o1777);
    await write(join(sticky, 'out.csv'), 'create-new', 'mine');
    expect(await readFile(join(sticky, 'out.csv'), 'utf8')).toBe('mine');
  });

  it('follows a symlinked folder of the user\'s own, relative or absolute, to a folder of theirs', async () => {
    const real = await folder('real', 0o700);
    await symlink('real', join(dir, 'relative'));
    await symlink(real, join(dir, 'absolute'));
    await write(join(dir, 'relative', 'a.csv'), 'create-new', 'a');
    await write(join(dir, 'absolute', 'b.csv'), 'create-new', 'b');
    expect((await readdir(real)).sort()).toEqual(['a.csv', 'b.csv']);
  });

  it('refuses a symlink on the way that another user made, in a sticky folder where they could', async () => {
    const sticky = await folder('sticky', 0o1777);
    const mine = await folder('mine', 0o700);
    await symlink(mine, join(sticky, 'cases'));
    await giveToOtherUser(join(sticky, 'cases'));
    const r = await refusal(write(join(sticky, 'cases', 'out.csv'), 'truncate', 'x'));
    expect(r.message).toContain(`${join(sticky, 'cases')} is a symbolic link made by another user (uid 65534)`);
    expect(await readdir(mine)).toEqual([]);
  });

  it('refuses a symlink of the user\'s own whose target passes through another user\'s folder', async () => {
    const theirs = await folder('theirs', 0o755);
    await mkdir(join(theirs, 'inner'));
    await giveToOtherUser(theirs);
    await symlink(join(theirs, 'inner'), join(dir, 'innocent'));
    const r = await refusal(write(join(dir, 'innocent', 'out.csv'), 'truncate', 'x'));
    expect(r.message).toContain(`the folder ${theirs} belongs to another user`);
    expect(await readdir(join(theirs, 'inner'))).toEqual([]);
  });

  it('refuses a loop of symlinks', async () => {
    await symlink(join(dir, 'b'), join(dir, 'a'));
    await symlink(join(dir, 'a'), join(dir, 'b'));
    expect((await refusal(write(join(dir, 'a', 'out.csv'), 'truncate', 'x'))).message).toContain('more than 40 symbolic links on the way');
  });

  it('refuses to trust a key file in another user\'s folder, even one the user owns', async () => {
    const theirs = await folder('theirs', 0o755);
    await writeFile(join(theirs, 'k.keys.json'), '{}', { mode: 0o600 });
    await giveToOtherUser(theirs);
    const r = await refusal(readTrustedFile(join(theirs, 'k.keys.json'), 'the key file'));
    expect(r.code).toBe('FILE_UNSAFE');
    expect(r.message).toMatch(/^the key file .*belongs to another user/);
  });
});

describe('readTrustedFile', () => {
  it('reads an own file, gives null for a missing one, and refuses a symlink or another user\'s file', async () => {
    await writeFile(join(dir, 'mine'), 'ok');
    expect((await readTrustedFile(join(dir, 'mine'), 'the test file'))?.text).toBe('ok');
    expect(await readTrustedFile(join(dir, 'missing'), 'the test file')).toBeNull();
    await symlink(join(dir, 'mine'), join(dir, 'link'));
    expect((await refusal(readTrustedFile(join(dir, 'link'), 'the test file'))).code).toBe('FILE_UNSAFE');
    await writeOthersFile(join(dir, 'theirs'), 'ok');
    expect((await refusal(readTrustedFile(join(dir, 'theirs'), 'the test file'))).code).toBe('FILE_UNSAFE');
  });
});

describe('writeFileAtomically', () => {
  it('replaces the content and leaves no temporary file', async () => {
    const path = join(dir, 'state.json');
    await writeFileAtomically(path, 'one', { purpose: 'the test file' });
    await writeFileAtomically(path, 'two', { purpose: 'the test file' });
    expect(await readFile(path, 'utf8')).toBe('two');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('ignores a symlink planted under the old fixed temporary name', async () => {
    const victim = join(dir, 'victim');
    await writeFile(victim, 'precious');
    await symlink(victim, join(dir, 'state.json.tmp'));
    await writeFileAtomically(join(dir, 'state.json'), 'mine', { purpose: 'the test file' });
    expect(await readFile(victim, 'utf8')).toBe('precious');
  });

  it('refuses to rename over a symlink or another user\'s file', async () => {
    await writeFile(join(dir, 'victim'), 'precious');
    await symlink(join(dir, 'victim'), join(dir, 'link.json'));
    expect((await refusal(writeFileAtomically(join(dir, 'link.json'), 'x', { purpose: 'the test file' }))).code).toBe('FILE_UNSAFE');
    await writeOthersFile(join(dir, 'theirs.json'), 'theirs');
    expect((await refusal(writeFileAtomically(join(dir, 'theirs.json'), 'x', { purpose: 'the test file' }))).code).toBe('FILE_UNSAFE');
    expect(await readFile(join(dir, 'theirs.json'), 'utf8')).toBe('theirs');
  });
});

describe('refuseProtectedOutput', () => {
  it.each([
    ['the store itself', (db: string) => db],
    ['its WAL, before DuckDB created it', (db: string) => `${db}.wal`],
    ['its key file', (db: string) => `${db}.keys.json`],
    ['its rejects file', (db: string) => `${db}.rejects.ndjson`],
    ['its audit log', (db: string) => `${db}.audit.ndjson`],
    ['watch\'s alerts dead-letter file', (db: string) => `${db}.alerts-dlq.ndjson`],
    ['the store spelt with ./ and ..', (db: string) => join(db, '..', '.', 'sub', '..', 'd.duckdb')],
  ])('refuses %s', async (_what, output) => {
    const db = join(dir, 'd.duckdb');
    await writeFile(db, 'store');
    await writeFile(`${db}.keys.json`, 'keys');
    const r = await refusal(refuseProtectedOutput(output(db), storeFiles(db), '--out'));
    expect(r.code).toBe('FILE_UNSAFE');
    expect(r.message).toContain('refusing to overwrite it');
  });

  it('refuses a hard link to the key file and a path through a symlinked folder', async () => {
    const db = join(dir, 'd.duckdb');
    await writeFile(`${db}.keys.json`, 'keys');
    await link(`${db}.keys.json`, join(dir, 'innocent.csv'));
    expect((await refusal(refuseProtectedOutput(join(dir, 'innocent.csv'), storeFiles(db), '--out'))).message)
      .toContain('is the store\'s key file');
    await symlink(dir, join(dir, 'alias'));
    expect((await refusal(refuseProtectedOutput(join(dir, 'alias', 'd.duckdb.wal'), storeFiles(db), '--out'))).code).toBe('FILE_UNSAFE');
  });

  it('lets any other file through', async () => {
    const db = join(dir, 'd.duckdb');
    await writeFile(db, 'store');
    await expect(refuseProtectedOutput(join(dir, 'report.html'), storeFiles(db), '--out')).resolves.toBeUndefined();
    await expect(refuseProtectedOutput(join(dir, 'd.duckdb.csv'), storeFiles(db), '--out')).resolves.toBeUndefined();
  });
});
