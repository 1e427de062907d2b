import { mkdtemp, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NdjsonAuditTrail, verifyChain, type AuditDraft } from '../../../services/audit/index.js';

const draft = (n: number): AuditDraft => ({
  actor: `user-${n}`, role: 'investigator', action: 'who-saw', subscriberHash: 'cd'.repeat(32),
  window: { from: null, to: null }, reason: `ticket INC-${n}`, results: 1,
});

describe('the audit file', () => {
  it('chains concurrent appends in one sequence, owner-only, each entry resolved with its own line', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'leakscope-audit-')), 's.duckdb.audit.ndjson');
    const trail = new NdjsonAuditTrail(path);
    const entries = await Promise.all(Array.from({ length: 50 }, (_v, i) => trail.append(draft(i))));
    expect(entries.map((e) => e.actor)).toEqual(Array.from({ length: 50 }, (_v, i) => `user-${i}`));
    expect(entries.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_v, i) => i + 1));
    const lines = await trail.lines();
    expect(verifyChain(lines)).toMatchObject({ ok: true, entries: 50 });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const again = await new NdjsonAuditTrail(path).append(draft(99));
    expect(again.seq).toBe(51);
  });

  it('refuses to write through a symbolic link, and after a last line that is not an entry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'leakscope-audit-'));
    await writeFile(join(dir, 'elsewhere'), '');
    await symlink(join(dir, 'elsewhere'), join(dir, 'link.audit.ndjson'));
    await expect(new NdjsonAuditTrail(join(dir, 'link.audit.ndjson')).append(draft(1))).rejects.toMatchObject({ code: 'AUDIT_FAILED' });
    expect(await readFile(join(dir, 'elsewhere'), 'utf8')).toBe('');
    await writeFile(join(dir, 'bad.audit.ndjson'), 'not json\n', { mode: 0o600 });
    await expect(new NdjsonAuditTrail(join(dir, 'bad.audit.ndjson')).append(draft(1))).rejects.toThrow(/last line is not an audit entry/);
  });

  it('chains from what another writer appended in between, and from an entry longer than the short tail read', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'leakscope-audit-')), 's.duckdb.audit.ndjson');
    const serve = new NdjsonAuditTrail(path);
    const cli = new NdjsonAuditTrail(path);
    await serve.append(draft(1));
    await cli.append(draft(2));
    // serve wrote the last entry before the CLI's: it must chain from the CLI's, read from the file.
    expect((await serve.append(draft(3))).seq).toBe(3);
    const long = await cli.append({ ...draft(4), reason: `ticket ${'x'.repeat(10_000)}` });
    expect((await serve.append(draft(5))).prev).toBe(long.hash);
    expect((await serve.append(draft(6))).seq).toBe(6);
    expect(verifyChain(await serve.lines())).toMatchObject({ ok: true, entries: 6 });
  });

  it('reads the file again when its last entry was changed after this trail wrote it', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'leakscope-audit-')), 's.duckdb.audit.ndjson');
    const trail = new NdjsonAuditTrail(path);
    await trail.append(draft(1));
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('"seq":1', '"seq":7'), { mode: 0o600 });
    // The edited line is read (and chained from), not the entry remembered from the write.
    expect((await trail.append(draft(2))).seq).toBe(8);
  });
});
