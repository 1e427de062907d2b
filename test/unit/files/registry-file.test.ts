import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeakscopeError } from '../../../services/core/errors.js';
import { readRegistryFile } from '../../../services/files/index.js';

const fixtures = fileURLToPath(new URL('../../fixtures/registry/', import.meta.url));
let dir = '';

beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'leakscope-registry-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

async function failure(path: string): Promise<LeakscopeError> {
  const err = await readRegistryFile(path).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(LeakscopeError);
  return err as LeakscopeError;
}

describe('readRegistryFile', () => {
  it.each(['o2-gb.yaml', 'o2-gb.json'])('reads the valid fixture %s', async (name) => {
    const registry = await readRegistryFile(join(fixtures, name));
    expect(registry.version).toBe('2012-01-25.1');
  });

  it('names the path and the reason when the file does not exist', async () => {
    const path = join(dir, 'missing.yaml');
    const err = await failure(path);
    expect(err.code).toBe('INPUT_UNREADABLE');
    expect(err.message).toBe(`cannot read registry file ${path}: no such file or directory (ENOENT)`);
  });

  it('names the reason when the path is a directory', async () => {
    const err = await failure(dir);
    expect(err.code).toBe('INPUT_UNREADABLE');
    expect(err.message).toContain('(EISDIR)');
  });

  // Permission errors cannot be provoked as root (tests here run as root); ENOTDIR exercises
  // the same path from an OS error code to a named reason.
  it('names the reason when a parent of the path is a file', async () => {
    const parent = join(dir, 'plain.yaml');
    await writeFile(parent, 'version: "1"\n');
    const err = await failure(join(parent, 'registry.yaml'));
    expect(err.code).toBe('INPUT_UNREADABLE');
    expect(err.message).toBe(`cannot read registry file ${join(parent, 'registry.yaml')}: a part of the path is not a directory (ENOTDIR)`);
  });

  it('refuses a file that is not UTF-8', async () => {
    const path = join(dir, 'latin1.yaml');
    await writeFile(path, Buffer.from('version: "1"\nregion: GB\npartners:\n  - {id: b, name: "B\xfccher", domains: [b.example], identifiers: [url]}\n', 'latin1'));
    const err = await failure(path);
    expect(err.code).toBe('REGISTRY_INVALID');
    expect(err.problems).toEqual(['(root): the file is not UTF-8 text; save it as UTF-8']);
  });

  it('reports every problem of an invalid registry with the file as its source', async () => {
    const path = join(fixtures, 'invalid-many.yaml');
    const err = await failure(path);
    expect(err.code).toBe('REGISTRY_INVALID');
    expect(err.message).toBe(`registry ${path} is invalid: 17 problems`);
    expect(err.problems).toHaveLength(17);
  });
});
