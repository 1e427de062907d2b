import { chmod, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeakscopeError } from '../../../services/core/errors.js';
import { createKeyFile, loadKeys } from '../../../services/keys/index.js';
import { writeOthersFile } from '../support/other-user.js';

const HEX_A = 'a'.repeat(64);
const HEX_B = '0123456789abcdef'.repeat(4);
const B64 = Buffer.alloc(32, 7).toString('base64');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'leakscope-keys-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>): Promise<LeakscopeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LeakscopeError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('loadKeys from the environment', () => {
  it('reads hex keys', async () => {
    const loaded = await loadKeys({ env: { LEAKSCOPE_HASH_KEY: HEX_A, LEAKSCOPE_ENC_KEY: HEX_B }, createIfMissing: false });
    expect(loaded.source).toBe('env');
    expect(loaded.keyFile).toBeNull();
    expect(loaded.created).toBe(false);
    expect(loaded.keys.hashKey.equals(Buffer.from(HEX_A, 'hex'))).toBe(true);
    expect(loaded.keys.encKey?.equals(Buffer.from(HEX_B, 'hex'))).toBe(true);
    expect(loaded.warnings).toEqual([]);
  });

  it('reads base64 keys, standard and URL-safe', async () => {
    const urlSafe = Buffer.alloc(32, 0xfb).toString('base64url');
    const loaded = await loadKeys({ env: { LEAKSCOPE_HASH_KEY: B64, LEAKSCOPE_ENC_KEY: urlSafe }, createIfMissing: false });
    expect(loaded.keys.hashKey.equals(Buffer.alloc(32, 7))).toBe(true);
    expect(loaded.keys.encKey?.equals(Buffer.alloc(32, 0xfb))).toBe(true);
  });

  it.each([
    ['LEAKSCOPE_HASH_KEY', 'secret-abc'],
    ['LEAKSCOPE_ENC_KEY', 'g'.repeat(64)],
    ['LEAKSCOPE_ENC_KEY', Buffer.alloc(16, 9).toString('base64')],
    ['LEAKSCOPE_ENC_KEY', HEX_B + '00'],
  ])('refuses a malformed key naming %s and what is expected, without echoing it', async (name, bad) => {
    const env = { LEAKSCOPE_HASH_KEY: HEX_A, LEAKSCOPE_ENC_KEY: HEX_B, [name]: bad };
    const error = await refusal(loadKeys({ env, createIfMissing: false }));
    expect(error.code).toBe('KEY_INVALID');
    expect(error.message).toContain(name);
    expect(error.message).toContain('64 hex characters or base64 of 32 bytes');
    expect(error.message).not.toContain(bad);
  });

  it('loads the hash key alone: lookups work, export is refused later', async () => {
    const loaded = await loadKeys({ env: { LEAKSCOPE_HASH_KEY: HEX_A }, createIfMissing: false });
    expect(loaded.keys.encKey).toBeNull();
    expect(loaded.warnings.join('\n')).toMatch(/no encryption key/);
  });

  it('refuses an encryption key without a hash key', async () => {
    const error = await refusal(loadKeys({ env: { LEAKSCOPE_ENC_KEY: HEX_B }, createIfMissing: true, keyFile: join(dir, 'k.json') }));
    expect(error.code).toBe('KEY_INVALID');
    expect(error.message).toMatch(/LEAKSCOPE_ENC_KEY is set but LEAKSCOPE_HASH_KEY is not/);
  });

  it('warns when a key file is ignored because the environment wins', async () => {
    const keyFile = join(dir, 'k.json');
    await createKeyFile(keyFile);
    const loaded = await loadKeys({ env: { LEAKSCOPE_HASH_KEY: HEX_A, LEAKSCOPE_ENC_KEY: HEX_B }, keyFile, createIfMissing: true });
    expect(loaded.source).toBe('env');
    expect(loaded.warnings.join('\n')).toMatch(/ignored/);
  });

  it('warns when the same key is used for hashing and encryption', async () => {
    const loaded = await loadKeys({ env: { LEAKSCOPE_HASH_KEY: HEX_A, LEAKSCOPE_ENC_KEY: HEX_A }, createIfMissing: false });
    expect(loaded.warnings.join('\n')).toMatch(/the same/);
  });
});

describe('loadKeys from a key file', () => {
  it('creates the key file with mode 0600 and says so', async () => {
    const keyFile = join(dir, 'sub', 'leakscope.keys.json');
    const loaded = await loadKeys({ env: {}, keyFile, createIfMissing: true });
    expect(loaded).toMatchObject({ created: true, keyFile, source: 'file', warnings: [] });
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const content = JSON.parse(await readFile(keyFile, 'utf8'));
    expect(Object.keys(content).sort()).toEqual(['enc_key', 'hash_key', 'version']);
    expect(content.hash_key).toMatch(/^[0-9a-f]{64}$/);
    expect(loaded.keys.hashKey.toString('hex')).toBe(content.hash_key);
    expect(loaded.keys.encKey?.toString('hex')).toBe(content.enc_key);
    expect(content.hash_key).not.toBe(content.enc_key);
  });

  it('reads an existing file and never overwrites it', async () => {
    const keyFile = join(dir, 'k.json');
    const first = await loadKeys({ env: {}, keyFile, createIfMissing: true });
    const before = await readFile(keyFile, 'utf8');
    const second = await loadKeys({ env: {}, keyFile, createIfMissing: true });
    expect(second.created).toBe(false);
    expect(await readFile(keyFile, 'utf8')).toBe(before);
    expect(second.keys.hashKey.equals(first.keys.hashKey)).toBe(true);
    expect(await createKeyFile(keyFile)).toBe(false);
    expect(await readFile(keyFile, 'utf8')).toBe(before);
  });

  it('is safe when many processes create the file at once: one wins, all get its keys', async () => {
    const keyFile = join(dir, 'k.json');
    const results = await Promise.all(Array.from({ length: 20 }, () => loadKeys({ env: {}, keyFile, createIfMissing: true })));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const hashes = new Set(results.map((r) => r.keys.hashKey.toString('hex')));
    expect(hashes.size).toBe(1);
    expect([...hashes][0]).toBe(JSON.parse(await readFile(keyFile, 'utf8')).hash_key);
  });

  it('refuses a missing file unless asked to create it', async () => {
    const error = await refusal(loadKeys({ env: {}, keyFile: join(dir, 'none.json'), createIfMissing: false }));
    expect(error.code).toBe('KEY_INVALID');
    expect(error.message).toMatch(/key file not found/);
  });

  it('refuses when there is neither a key in the environment nor a key file', async () => {
    const error = await refusal(loadKeys({ env: {}, createIfMissing: true }));
    expect(error.message).toMatch(/no privacy keys: set LEAKSCOPE_HASH_KEY/);
  });

  it('names every problem of a malformed key file', async () => {
    const keyFile = join(dir, 'k.json');
    await writeFile(keyFile, JSON.stringify({ version: 2, hash_key: 'xyz', enc_key: 5, extra: 1 }), { mode: 0o600 });
    const error = await refusal(loadKeys({ env: {}, keyFile, createIfMissing: true }));
    expect(error.code).toBe('KEY_INVALID');
    expect(error.problems).toHaveLength(4);
    expect(error.message).toContain('extra: unknown key; expected one of version, hash_key, enc_key');
    expect(error.message).toContain('version: expected 1');
    expect(error.message).toContain(`${keyFile}: hash_key: expected 64 hex characters`);
    expect(error.message).toContain('enc_key: expected a string or null');
  });

  it('refuses a file that is not JSON', async () => {
    const keyFile = join(dir, 'k.json');
    await writeFile(keyFile, 'hash_key=abc', { mode: 0o600 });
    expect((await refusal(loadKeys({ env: {}, keyFile, createIfMissing: false }))).message).toMatch(/not JSON/);
  });

  it('loads a file with the hash key alone (export impossible)', async () => {
    const keyFile = join(dir, 'k.json');
    await writeFile(keyFile, JSON.stringify({ version: 1, hash_key: HEX_A }), { mode: 0o600 });
    const loaded = await loadKeys({ env: {}, keyFile, createIfMissing: false });
    expect(loaded.keys.encKey).toBeNull();
    expect(loaded.warnings.join('\n')).toMatch(/no encryption key/);
  });

  it('warns when the key file is readable by others', async () => {
    const keyFile = join(dir, 'k.json');
    await createKeyFile(keyFile);
    await chmod(keyFile, 0o644);
    const loaded = await loadKeys({ env: {}, keyFile, createIfMissing: false });
    expect(loaded.warnings.join('\n')).toMatch(/readable by group or others \(mode 0644\); run chmod 600/);
  });

  it('refuses a key file writable by others', async () => {
    const keyFile = join(dir, 'k.json');
    await createKeyFile(keyFile);
    await chmod(keyFile, 0o662);
    const error = await refusal(loadKeys({ env: {}, keyFile, createIfMissing: false }));
    expect(error.code).toBe('KEY_INVALID');
    expect(error.message).toMatch(/writable by group or others/);
  });

  it('refuses a key file owned by another user, even one with mode 0600: its owner knows the key', async () => {
    const keyFile = join(dir, 'k.json');
    await writeOthersFile(keyFile, JSON.stringify({ version: 1, hash_key: HEX_A, enc_key: HEX_B }), 0o600);
    const error = await refusal(loadKeys({ env: {}, keyFile, createIfMissing: true }));
    expect(error.code).toBe('FILE_UNSAFE');
    expect(error.message).toMatch(/owned by another user/);
  });

  it('refuses a key file reached through a symlink, and never creates one at the link\'s target', async () => {
    const real = join(dir, 'real.json');
    await createKeyFile(real);
    await symlink(real, join(dir, 'k.json'));
    expect((await refusal(loadKeys({ env: {}, keyFile: join(dir, 'k.json'), createIfMissing: false }))).code).toBe('FILE_UNSAFE');
    await symlink(join(dir, 'absent.json'), join(dir, 'dangling.json'));
    expect((await refusal(loadKeys({ env: {}, keyFile: join(dir, 'dangling.json'), createIfMissing: true }))).message).toMatch(/symbolic link/);
    await expect(stat(join(dir, 'absent.json'))).rejects.toThrow(/ENOENT/);
  });

  it('leaves no temporary files behind', async () => {
    const keyFile = join(dir, 'k.json');
    await Promise.all([createKeyFile(keyFile), createKeyFile(keyFile), createKeyFile(keyFile)]);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(dir)).toEqual(['k.json']);
  });
});
