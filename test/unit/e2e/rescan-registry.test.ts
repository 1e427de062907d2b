// A rescan with a corrected registry: the store answers with the new registry, exactly as a
// fresh store would; a changed registry under an unchanged version label is refused.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../cli/query-fixture.js';

const FIXTURE = join(import.meta.dirname, '../../fixtures/incident');
const WINDOW = ['--from', '2012-01-01T00:00:00Z', '--to', '2012-02-01T00:00:00Z'];

describe('rescanning with another registry', () => {
  let dir: string;
  let logs: string[];
  let corrected: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'leakscope-rescan-'));
    logs = (await readdir(join(FIXTURE, 'logs'))).sort().map((f) => join(FIXTURE, 'logs', f));
    const original = await readFile(join(FIXTURE, 'registry.yaml'), 'utf8');
    // The correction: ageverify was never a partner (its entries dropped), under a new label.
    const lines = original.split('\n');
    const start = lines.findIndex((l) => /^\s*- id: ageverify\b/.test(l));
    expect(start).toBeGreaterThan(0);
    let end = start + 1;
    while (end < lines.length && !/^\s*- id: /.test(lines[end]!)) end++;
    const text = [...lines.slice(0, start), ...lines.slice(end)].join('\n').replace(/^version: .*$/m, 'version: "corrected-1"');
    corrected = join(dir, 'corrected.yaml');
    await writeFile(corrected, text);
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  const report = async (db: string) => {
    const r = await run(['report', ...WINDOW, '--db', db, '--format', 'json']);
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout);
  };

  it('gives the answers of a fresh store scanned with the corrected registry', async () => {
    const reused = join(dir, 'reused.duckdb');
    const fresh = join(dir, 'fresh.duckdb');
    expect((await run(['scan', '--registry', join(FIXTURE, 'registry.yaml'), '--db', reused, ...logs])).code).toBe(0);
    const before = await report(reused);
    expect((await run(['scan', '--registry', corrected, '--db', reused, ...logs])).code).toBe(0);
    expect((await run(['scan', '--registry', corrected, '--db', fresh, ...logs])).code).toBe(0);
    const after = await report(reused);
    expect(after.totals.violations).toBeGreaterThan(before.totals.violations);
    expect(after).toEqual(await report(fresh));
  });

  it('refuses a registry with other identity headers: which requests disclose would change', async () => {
    const db = join(dir, 'headers.duckdb');
    expect((await run(['scan', '--registry', join(FIXTURE, 'registry.yaml'), '--db', db, ...logs])).code).toBe(0);
    const original = await readFile(join(FIXTURE, 'registry.yaml'), 'utf8');
    expect(original).toMatch(/x-o2-subscriber/);
    const fewer = join(dir, 'fewer-headers.yaml');
    await writeFile(fewer, original.replace(/^version: .*$/m, 'version: "fewer-headers"').replace(/^\s*- x-o2-subscriber\s*$/m, '  - x-other-header'));
    const r = await run(['scan', '--registry', fewer, '--db', db, ...logs]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/identity_headers/);
  });

  it('accepts a cosmetic change (a partner renamed) under the same version label', async () => {
    const db = join(dir, 'cosmetic.duckdb');
    const original = await readFile(join(FIXTURE, 'registry.yaml'), 'utf8');
    expect((await run(['scan', '--registry', join(FIXTURE, 'registry.yaml'), '--db', db, ...logs])).code).toBe(0);
    const renamed = join(dir, 'renamed.yaml');
    await writeFile(renamed, original.replace('name: "AgeVerify Ltd"', 'name: "AgeVerify Ltd (renamed)"'));
    expect(await readFile(renamed, 'utf8')).not.toBe(original);
    expect((await run(['scan', '--registry', renamed, '--db', db, ...logs])).code).toBe(0);
  });

  it('refuses a changed registry that kept its version label', async () => {
    const db = join(dir, 'label.duckdb');
    expect((await run(['scan', '--registry', join(FIXTURE, 'registry.yaml'), '--db', db, ...logs])).code).toBe(0);
    const sameLabel = join(dir, 'same-label.yaml');
    const original = await readFile(join(FIXTURE, 'registry.yaml'), 'utf8');
    await writeFile(sameLabel, (await readFile(corrected, 'utf8')).replace(/^version: .*$/m, original.match(/^version: .*$/m)![0]));
    const r = await run(['scan', '--registry', sameLabel, '--db', db, ...logs]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/give the changed registry a new version label/);
  });
});
