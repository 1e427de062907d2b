// `leakscope scan` on inputs that fault part-way, inputs that cannot seek, and scans that are
// refused (issue 7, items 2, 3 and 6): everything read is stored or rejected, a partly read
// input does not look like a clean run, and a refused scan leaves nothing behind.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../services/cli/command.js';
import { main } from '../../../services/cli/main.js';

const REGISTRY_YAML = 'version: "1"\nregion: GB\npartners: []\n';
const line = (n: number): string => JSON.stringify({
  ts: '2012-01-20T09:31:02.123Z', gateway_id: 'gw', request_id: String(n), msisdn: '447700900123',
  url: `http://site${n % 50}.example/news?id=${n}`, headers: { 'X-MSISDN': '447700900123' },
});
const lines = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => line(from + i));

const root = mkdtempSync(join(tmpdir(), 'leakscope-scan-inputs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let cases = 0;

function workspace(files: Record<string, string | Buffer> = {}): string {
  const cwd = join(root, `case-${++cases}`);
  mkdirSync(cwd);
  writeFileSync(join(cwd, 'registry.yaml'), REGISTRY_YAML);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(cwd, name), content);
  return cwd;
}

async function run(argv: string[], cwd: string, stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => { out += c.toString(); });
  stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const io: CliIo = { stdout, stderr, stdin: Readable.from([Buffer.from(stdin)]), env: {}, cwd };
  const code = await main(['scan', ...argv], io);
  return { code, stdout: out, stderr: err };
}

function rejects(cwd: string): Array<{ source: string; line: number; reason: string; raw: string }> {
  const path = join(cwd, 'leakscope.duckdb.rejects.ndjson');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as never);
}

describe('an input that faults part-way', () => {
  const good = gzipSync(lines(0, 500).join('\n') + '\n');
  const all = gzipSync(lines(1000, 50_000).join('\n') + '\n');
  const truncated = all.subarray(0, Math.floor(all.length / 2));
  // What zcat recovers of the truncated file: its complete lines.
  const recovered = gunzipSync(truncated, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString('utf8').split('\n').length - 1;

  it('stores every line read before a truncated gzip\'s fault, records the fault, goes on with the other inputs, and exits 2', async () => {
    const cwd = workspace({ 'good.gz': good, 'half.gz': truncated, 'after.ndjson': lines(90_000, 10).join('\n') + '\n' });
    const r = await run(['--json', 'good.gz', 'half.gz', 'after.ndjson'], cwd);
    expect(r.code).toBe(2);
    const summary = JSON.parse(r.stdout) as Record<string, number>;
    expect(summary).toMatchObject({ requests: 500 + recovered + 10, disclosures: 500 + recovered + 10, rejected: 1, faulted: 1 });
    expect(r.stderr).toMatch(/^leakscope scan: 1 input was read only in part/m);
    const [fault] = rejects(cwd);
    expect(fault).toMatchObject({ source: join(cwd, 'half.gz'), line: recovered + 1 });
    expect(fault!.reason).toMatch(/^input refused from here on: the gzip data is corrupt or truncated/);
  }, 60_000);

  it('prints the summary with the faulted input on a terminal-style run', async () => {
    const cwd = workspace({ 'junk.gz': Buffer.concat([good.subarray(0, 10), Buffer.alloc(200, 0x55)]), 'good.gz': good });
    const r = await run(['good.gz', 'junk.gz'], cwd);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/requests\s+500/);
    expect(r.stdout).toMatch(/faulted\s+1 input read in part/);
  }, 30_000);

  it('refuses a gzip whose content is no log format as a fault of that input only', async () => {
    const cwd = workspace({ 'good.gz': good, 'text.gz': gzipSync('hello 447700900123\n') });
    const r = await run(['--json', 'good.gz', 'text.gz'], cwd);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ requests: 500, faulted: 1 });
    expect(rejects(cwd)[0]!.reason).toMatch(/cannot tell the log format from line 1/);
    expect(r.stderr).not.toContain('447700900123');
  });
});

/** The built CLI: FIFOs and /dev/fd/N need a real process on the other end. */
function cliBin(): string {
  if (!existsSync(join(process.cwd(), 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  return join(process.cwd(), 'bin', 'leakscope.js');
}

describe('inputs that cannot seek', () => {
  it('reads a FIFO as a stream', () => {
    const cwd = workspace();
    const fifo = join(cwd, 'gateway.fifo');
    execFileSync('mkfifo', [fifo]);
    const out = execFileSync('bash', ['-c', `(printf '%s\\n' "$1" "$2" > gateway.fifo &) ; node ${cliBin()} scan --json gateway.fifo`, 'scan', line(1), line(2)], { cwd, encoding: 'utf8' });
    expect(JSON.parse(out)).toMatchObject({ lines: 2, requests: 2, disclosures: 2, faulted: 0 });
  }, 30_000);

  it('reads process substitution (/dev/fd/N) through bash', () => {
    const cwd = workspace({ 'a.ndjson.gz': gzipSync(lines(0, 3).join('\n') + '\n') });
    const out = execFileSync('bash', ['-c', `node ${cliBin()} scan --json <(zcat a.ndjson.gz)`], { cwd, encoding: 'utf8' });
    expect(JSON.parse(out)).toMatchObject({ requests: 3, disclosures: 3, faulted: 0 });
  }, 30_000);
});

describe('a refused scan leaves nothing behind', () => {
  const created = (cwd: string): string[] => readdirSync(cwd).filter((n) => n !== 'registry.yaml' && n !== 'a.ndjson').sort();

  it.each([
    ['stdin given twice', ['-', '-']],
    ['a rejects file in a missing folder', ['--rejects', 'missing/r.ndjson', 'a.ndjson']],
    ['a rejects path that is a folder', ['--rejects', '.', 'a.ndjson']],
    ['a store path that is not a DuckDB file', ['--db', 'a.ndjson', 'a.ndjson']],
  ])('%s: no store, no key file, one message prefix', async (_title, argv) => {
    const cwd = workspace({ 'a.ndjson': lines(0, 3).join('\n') + '\n' });
    const r = await run(argv, cwd);
    expect(r.code).toBe(2);
    expect(created(cwd)).toEqual([]);
    expect(r.stderr).toMatch(/^leakscope scan: /);
    expect(r.stderr).not.toMatch(/scan: scan:/);
  });

  it('writes flag errors once prefixed', async () => {
    const r = await run(['--bogus', 'a.ndjson'], workspace());
    expect(r.stderr).toMatch(/^leakscope scan: Unknown option '--bogus'/);
  });

  it('stages batches next to the store, owner-only, and removes staging a killed scan left', async () => {
    const cwd = workspace({ 'a.ndjson': lines(0, 3).join('\n') + '\n' });
    const stale = join(cwd, 'leakscope.duckdb.staging-killed');
    mkdirSync(stale);
    writeFileSync(join(stale, 'batch.ndjson'), line(1));
    const r = await run(['a.ndjson'], cwd);
    expect(r.code).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(readdirSync(cwd).filter((n) => n.includes('staging'))).toEqual([]);
  });
});
