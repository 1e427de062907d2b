// Nothing the investigator owns can be overwritten or swapped through leakscope's outputs:
// regression tests for the rejects file, the key file and `--out`, one per class of attack.
import { chmod, link, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeOthersFile } from '../support/other-user.js';
import { WINDOW, makeStore, run, type Fixture } from './query-fixture.js';

const REGISTRY = join(import.meta.dirname, '../../fixtures/registry/o2-gb.yaml');
const LOG = JSON.stringify({
  ts: '2012-01-10T09:31:02.123Z', gateway_id: 'gw', request_id: 'gw:1', msisdn: '447700900123', url: 'http://www.example.com/',
  headers: { Host: 'www.example.com', 'X-MSISDN': '447700900123' },
}) + '\n{"ts": broken\n';

let work: string;
beforeAll(async () => { work = await mkdtemp(join(tmpdir(), 'leakscope-file-safety-')); });
afterAll(async () => { await rm(work, { recursive: true, force: true }); });

async function scanInto(dir: string, extra: string[] = []): Promise<Awaited<ReturnType<typeof run>>> {
  const log = join(dir, 'a.ndjson');
  await writeFile(log, LOG);
  return run(['scan', '--registry', REGISTRY, '--db', join(dir, 'd.duckdb'), ...extra, log]);
}

describe('the rejects file', () => {
  it('is never written through a symlink: the scan is refused and the link\'s target is untouched', async () => {
    const dir = await mkdtemp(join(work, 'rejects-link-'));
    const victim = join(dir, 'victim.conf');
    await writeFile(victim, 'precious\n', { mode: 0o644 });
    await symlink(victim, join(dir, 'd.duckdb.rejects.ndjson'));
    const r = await scanInto(dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the rejects file .*d\.duckdb\.rejects\.ndjson: is a symbolic link/);
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect((await stat(victim)).mode & 0o777).toBe(0o644);
  });

  it('is never another user\'s file', async () => {
    const dir = await mkdtemp(join(work, 'rejects-other-'));
    await writeOthersFile(join(dir, 'theirs.ndjson'), 'theirs\n', 0o644);
    const r = await scanInto(dir, ['--rejects', join(dir, 'theirs.ndjson')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('owned by another user');
    expect(await readFile(join(dir, 'theirs.ndjson'), 'utf8')).toBe('theirs\n');
  });

  it('is never the store or its key file', async () => {
    const dir = await mkdtemp(join(work, 'rejects-store-'));
    expect((await scanInto(dir)).code).toBe(0);
    const keys = await readFile(join(dir, 'd.duckdb.keys.json'), 'utf8');
    for (const target of ['d.duckdb', 'd.duckdb.keys.json']) {
      const r = await scanInto(dir, ['--rejects', join(dir, target)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('refusing to overwrite it');
    }
    expect(await readFile(join(dir, 'd.duckdb.keys.json'), 'utf8')).toBe(keys);
  });
});

describe('the key file', () => {
  it('is refused when it is a symlink, even to a key file of the user\'s own', async () => {
    const dir = await mkdtemp(join(work, 'key-link-'));
    await writeFile(join(dir, 'elsewhere.keys.json'), JSON.stringify({ version: 1, hash_key: '11'.repeat(32), enc_key: '22'.repeat(32) }), { mode: 0o600 });
    await symlink(join(dir, 'elsewhere.keys.json'), join(dir, 'd.duckdb.keys.json'));
    const r = await scanInto(dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/key file .*d\.duckdb\.keys\.json: is a symbolic link/);
  });

  it('is refused when another user owns it, whatever its mode: they hold the key', async () => {
    const dir = await mkdtemp(join(work, 'key-other-'));
    await writeOthersFile(join(dir, 'd.duckdb.keys.json'), JSON.stringify({ version: 1, hash_key: '11'.repeat(32), enc_key: '22'.repeat(32) }), 0o600);
    const r = await scanInto(dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('owned by another user');
    await expect(stat(join(dir, 'd.duckdb'))).rejects.toThrow(/ENOENT/);
  });
});

describe('--out of report and export-affected', () => {
  let fx: Fixture;
  beforeAll(async () => { fx = await makeStore(); });
  afterAll(async () => { await rm(fx.dir, { recursive: true, force: true }); });

  const report = (out: string, cwd?: string) =>
    run(['report', '--from', WINDOW.from, '--to', WINDOW.to, '--db', fx.db, '--format', 'html', '--out', out], cwd === undefined ? {} : { cwd });
  const exportTo = (out: string) => run(['export-affected', '--reason', 'notification INC-2', '--from', WINDOW.from, '--to', WINDOW.to, '--db', fx.db, '--out', out]);

  it.each([
    ['the store', () => fx.db],
    ['its WAL', () => `${fx.db}.wal`],
    ['its key file', () => fx.keyFile],
    ['its rejects file', () => `${fx.db}.rejects.ndjson`],
    ['its audit log', () => `${fx.db}.audit.ndjson`],
  ])('refuses %s as the output of both commands, and leaves it as it was', async (_what, target) => {
    const before = await readFile(fx.keyFile, 'utf8');
    const storeBefore = (await stat(fx.db)).size;
    for (const r of [await report(target()), await exportTo(target())]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('refusing to overwrite it');
    }
    expect(await readFile(fx.keyFile, 'utf8')).toBe(before);
    expect((await stat(fx.db)).size).toBe(storeBefore);
  });

  it('refuses the key file spelt relative to the working directory, with ..', async () => {
    const sub = await mkdtemp(join(fx.dir, 'sub-'));
    const r = await report(join('..', relative(fx.dir, fx.keyFile)), sub);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is the store\'s key file');
  });

  it('refuses a hard link to the key file, so the export never writes numbers over the keys', async () => {
    const alias = join(fx.dir, 'affected.csv');
    await link(fx.keyFile, alias);
    try {
      const r = await exportTo(alias);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('is the store\'s key file');
      expect(JSON.parse(await readFile(fx.keyFile, 'utf8'))).toMatchObject({ version: 1 });
    } finally {
      await rm(alias);
    }
  });

  it('refuses a symlink and another user\'s file as the output', async () => {
    const victim = join(fx.dir, 'victim.txt');
    await writeFile(victim, 'precious');
    await symlink(victim, join(fx.dir, 'link.html'));
    expect((await report(join(fx.dir, 'link.html'))).stderr).toContain('is a symbolic link');
    await writeOthersFile(join(fx.dir, 'theirs.csv'), 'theirs');
    const r = await exportTo(join(fx.dir, 'theirs.csv'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('owned by another user');
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect(await readFile(join(fx.dir, 'theirs.csv'), 'utf8')).toBe('theirs');
  });

  it('writes a report owner-only, over an own file that was readable by others', async () => {
    const out = join(fx.dir, 'report.html');
    await writeFile(out, 'old');
    await chmod(out, 0o644);
    const r = await report(out);
    expect(r.code).toBe(0);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect(await readFile(out, 'utf8')).toContain('<!DOCTYPE html>');
  });
});
