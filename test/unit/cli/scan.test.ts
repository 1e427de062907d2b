import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../services/cli/command.js';
import { main } from '../../../services/cli/main.js';
import { formatProgress } from '../../../services/cli/progress.js';
import { openDuckDbStore } from '../../../services/store/duckdb/index.js';
import { buildReport, type ReportJson } from '../../../services/store/index.js';

const REGISTRY_YAML = `version: "2012-01-25.1"
region: GB
partners:
  - id: ageverify
    name: AgeVerify Ltd
    purposes: [age_verification]
    domains: ["*.ageverify.example"]
    identifiers: [x-msisdn]
`;

const line = (n: number, host: string, over: Record<string, unknown> = {}): string => JSON.stringify({
  ts: '2012-01-20T09:31:02.123Z', gateway_id: 'gw-lon-01', request_id: String(n), msisdn: '447700900123',
  url: `http://${host}/news?id=1`, headers: { Host: host, 'X-MSISDN': '447700900123' }, ...over,
});
/** 4 lines: 3 requests, 2 disclosures (1 violation), 1 reject. */
const LOG = [line(1, 'www.example.com'), line(2, 'm.ageverify.example'), line(3, 'quiet.example', { headers: { Host: 'quiet.example' } }), '{"ts": broken'].join('\n') + '\n';

const root = mkdtempSync(join(tmpdir(), 'leakscope-cli-scan-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let cases = 0;

interface Run { code: number; stdout: string; stderr: string; cwd: string }

function workspace(files: Record<string, string> = { 'registry.yaml': REGISTRY_YAML, 'a.ndjson': LOG }): string {
  const cwd = join(root, `case-${++cases}`);
  mkdirSync(cwd);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(cwd, name), content);
  return cwd;
}

async function run(argv: string[], cwd: string, env: Record<string, string> = {}, stdin = ''): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => { out += c.toString(); });
  stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const io: CliIo = { stdout, stderr, stdin: Readable.from([Buffer.from(stdin)]), env, cwd };
  const code = await main(['scan', ...argv], io);
  return { code, stdout: out, stderr: err, cwd };
}

describe('leakscope scan', () => {
  it('scans into ./leakscope.duckdb with ./registry.yaml and prints the summary as JSON', async () => {
    const cwd = workspace();
    const r = await run(['--json', 'a.ndjson'], cwd);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ lines: 4, requests: 3, disclosures: 2, violations: 1, rejected: 1 });
    expect(Object.keys(summary).sort()).toEqual(['db', 'disclosures', 'elapsed_ms', 'faulted', 'lines', 'not_forwarded', 'rejected', 'rejects_file', 'requests', 'unread_fields', 'violations']);
    expect(summary['db']).toBe(join(cwd, 'leakscope.duckdb'));
    expect(summary['rejects_file']).toBe(join(cwd, 'leakscope.duckdb.rejects.ndjson'));
    const rejects = readFileSync(join(cwd, 'leakscope.duckdb.rejects.ndjson'), 'utf8').trim().split('\n');
    expect(rejects.map((l) => (JSON.parse(l) as { line: number }).line)).toEqual([4]);
    expect(statSync(join(cwd, 'leakscope.duckdb.rejects.ndjson')).mode & 0o777).toBe(0o600);
    // The key file is created owner-only, and the user is told where.
    expect(statSync(join(cwd, 'leakscope.duckdb.keys.json')).mode & 0o777).toBe(0o600);
    expect(r.stderr).toContain('created the key file');
    expect(r.stderr).not.toContain('\r'); // no progress on a pipe
  });

  it('leaves the same store when run again, and prints a readable summary without --json', async () => {
    const cwd = workspace();
    expect((await run(['a.ndjson'], cwd)).code).toBe(0);
    const again = await run(['a.ndjson'], cwd);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/disclosures\s+2\n/);
    expect(again.stdout).toMatch(/violations\s+1\n/);
    expect(again.stdout).toContain(join(cwd, 'leakscope.duckdb'));
    expect(again.stderr).not.toContain('created the key file');
    const store = await openDuckDbStore(join(cwd, 'leakscope.duckdb'), { readOnly: true });
    expect(await store.count()).toEqual({ disclosures: 2, violations: 1 });
    await store.close();
  });

  it('takes --db, --rejects, --registry and stdin', async () => {
    const cwd = workspace({ 'partners.yaml': REGISTRY_YAML });
    const ok = await run(['--json', '--registry', 'partners.yaml', '--db', 'out/s.duckdb', '--rejects', 'rej.ndjson', '-'], cwd, {}, LOG);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ lines: 4, disclosures: 2, rejected: 1, rejects_file: join(cwd, 'rej.ndjson') });
    expect(existsSync(join(cwd, 'out', 's.duckdb.keys.json'))).toBe(true);
  });

  it('refuses to run without a registry, exit 2', async () => {
    const cwd = workspace({ 'a.ndjson': LOG });
    const r = await run(['a.ndjson'], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--registry');
    expect(existsSync(join(cwd, 'leakscope.duckdb'))).toBe(false);
  });

  it('refuses a bad registry with every problem listed, exit 2', async () => {
    const cwd = workspace({ 'bad.yaml': 'version: "1"\nregion: GB\npartners:\n  - id: x\n    domains: ["*."]\n', 'a.ndjson': LOG });
    const r = await run(['--registry', 'bad.yaml', 'a.ndjson'], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/partners\[0\]/);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('  - ')).length).toBeGreaterThan(1);
  });

  it('refuses an unreadable log file, naming it, exit 2', async () => {
    const cwd = workspace();
    const r = await run(['a.ndjson', 'missing.log'], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('missing.log');
    // Refused before anything was created: no empty store, no key file.
    expect([existsSync(join(cwd, 'leakscope.duckdb')), existsSync(join(cwd, 'leakscope.duckdb.keys.json'))]).toEqual([false, false]);
  });

  it('refuses an unknown --format and a log whose format cannot be told, exit 2', async () => {
    const cwd = workspace({ 'registry.yaml': REGISTRY_YAML, 'a.txt': 'plain words\n' });
    const bad = await run(['--format', 'xml', 'a.txt'], cwd);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('xml');
    const unknown = await run(['a.txt'], cwd);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('a.txt');
  });

  it('refuses a malformed key in the environment, exit 2, naming the variable', async () => {
    const cwd = workspace();
    const r = await run(['a.ndjson'], cwd, { LEAKSCOPE_HASH_KEY: 'not-a-key' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('LEAKSCOPE_HASH_KEY');
    expect(r.stderr).not.toContain('not-a-key');
  });

  it('refuses a key other than the one the store was written with, exit 2', async () => {
    const cwd = workspace();
    expect((await run(['a.ndjson'], cwd)).code).toBe(0);
    const r = await run(['a.ndjson'], cwd, { LEAKSCOPE_HASH_KEY: 'ab'.repeat(32) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('another privacy key');
  });

  it('refuses bad usage: no files, unknown flag, bad --workers', async () => {
    const cwd = workspace();
    expect((await run([], cwd)).code).toBe(2);
    expect((await run(['--nope', 'a.ndjson'], cwd)).code).toBe(2);
    expect((await run(['--workers', 'many', 'a.ndjson'], cwd)).code).toBe(2);
  });

  it('formats a progress line with bytes, rate and time left', () => {
    const text = formatProgress({ lines: 50_000, requests: 0, disclosures: 0, violations: 1234, rejected: 0, faulted: 0, bytes: 50 * 1024 * 1024, totalBytes: 100 * 1024 * 1024, elapsedMs: 10_000 });
    expect(text).toContain('50%');
    expect(text).toContain('50 MiB / 100 MiB');
    expect(text).toContain('5,000 lines/s');
    expect(text).toContain('ETA 0:10');
  });
});

// The committed incident fixture: the summary must match its ground truth.
const INCIDENT = join(import.meta.dirname, '../../fixtures/incident');
describe('leakscope scan on the incident fixture', () => {
  it('counts what the ground truth says', async () => {
    const truth = JSON.parse(readFileSync(join(INCIDENT, 'truth', 'summary.json'), 'utf8')) as {
      files: Array<{ file: string }>; lines?: number; requests?: number; disclosures?: number; violations?: number; rejects?: number;
      totals?: Record<string, number>;
    };
    const cwd = workspace({});
    const r = await run(['--json', '--registry', join(INCIDENT, 'registry.yaml'), ...truth.files.map((f) => join(INCIDENT, f.file))], cwd);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as Record<string, number>;
    const totals = truth.totals ?? (truth as unknown as Record<string, number>);
    expect({ lines: summary['lines'], requests: summary['requests'], disclosures: summary['disclosures'], violations: summary['violations'], rejected: summary['rejected'] })
      .toEqual({ lines: totals['lines'], requests: totals['requests'], disclosures: totals['disclosures'], violations: totals['violations'], rejected: totals['rejects'] });
    // The store answers the month's report exactly as the ground truth has it.
    const expected = JSON.parse(readFileSync(join(INCIDENT, 'truth', 'report.json'), 'utf8')) as ReportJson;
    const window = { from: Date.parse(expected.window.from), to: Date.parse(expected.window.to) };
    const store = await openDuckDbStore(join(cwd, 'leakscope.duckdb'), { readOnly: true });
    try {
      expect(buildReport(window, await store.report(window))).toEqual(expected);
    } finally {
      await store.close();
    }
  }, 120_000);
});
