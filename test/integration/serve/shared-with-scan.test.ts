// `serve --db` and `scan` on one DuckDB file at the same time: the scan (a real process)
// writes its batches while the service keeps answering; nothing is refused, the scan
// finishes, and afterwards the API answers what the CLI answers on the finished store: the
// report, and who-saw, whose in-memory index (read before the scan) must not answer for the
// store the scan changed.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../unit/cli/query-fixture.js';
import { BIN, REPO, addUser, requireBuild, startServe, type ServeProcess } from './harness.js';

const WINDOW = { from: '2012-01-01', to: '2012-02-01' };

function spawnCli(args: string[]): { done: Promise<{ code: number | null; stderr: string }>; alive: () => boolean } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  let running = true;
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => { running = false; resolve({ code, stderr }); }));
  return { done, alive: () => running };
}

describe('serve and scan on one embedded store', () => {
  let dir: string;
  let serve: ServeProcess;
  let token: string;
  let data: string;
  let db: string;

  beforeAll(async () => {
    requireBuild();
    dir = await mkdtemp(join(tmpdir(), 'leakscope-shared-'));
    data = join(dir, 'incident');
    db = join(dir, 'shared.duckdb');
    const generated = await new Promise<number | null>((resolve) => {
      spawn(process.execPath, [join(REPO, 'dist/demo/incident.js'), '--out', data, '--requests', '60000', '--seed', 'shared-scan', '--no-disclosures'], { stdio: 'ignore' })
        .on('close', resolve);
    });
    expect(generated).toBe(0);
    // The store exists (one gateway's log) before serve starts.
    const first = await run(['scan', '--registry', join(data, 'registry.yaml'), '--db', db, join(data, 'logs/gw-gla-03.ndjson.gz')]);
    expect(first.code).toBe(0);
    const usersFile = join(dir, 'users.yaml');
    token = await addUser(usersFile, 'analyst', 'investigator');
    serve = await startServe(['--db', db, '--users', usersFile, '--lookups-per-minute', '100000'], {});
  });

  afterAll(async () => {
    await serve?.stop('SIGKILL');
  });

  /** Subscribers of the logs the scan adds (the store holds only another gateway's before it). */
  async function numbersOfScannedLogs(): Promise<string[]> {
    const lines = (await readFile(join(data, 'logs/gw-lon-01.ndjson'), 'utf8')).split('\n', 3000);
    const numbers = new Set<string>();
    for (const line of lines) {
      const msisdn = line === '' ? null : (JSON.parse(line) as { msisdn?: string | null }).msisdn;
      if (typeof msisdn === 'string' && numbers.size < 40) numbers.add(msisdn);
    }
    return [...numbers];
  }

  const whoSaw = async (number: string): Promise<{ status: number; text: string }> => {
    const res = await fetch(`${serve.url}/api/v1/who-saw`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ number, reason: 'ticket INC-77' }),
    });
    return { status: res.status, text: await res.text() };
  };

  async function indexState(): Promise<string> {
    const text = await (await fetch(`${serve.url}/metrics`)).text();
    return /^leakscope_who_saw_index_state\{state="(\w+)"\} 1$/m.exec(text)?.[1] ?? 'absent';
  }

  it('keeps answering while a scan adds logs, and the scan finishes', async () => {
    // who-saw before the scan, answered from the index read of the store as it then was.
    const numbers = await numbersOfScannedLogs();
    expect(numbers.length).toBeGreaterThan(10);
    for (let i = 0; i < 200 && (await indexState()) !== 'ready'; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await indexState()).toBe('ready');
    const before = await Promise.all(numbers.map(whoSaw));
    expect(before.map((b) => b.status)).toEqual(numbers.map(() => 200));

    const scan = spawnCli(['scan', '--registry', join(data, 'registry.yaml'), '--db', db, join(data, 'logs/gw-lon-01.ndjson'), join(data, 'logs/gw-man-02.log')]);
    const statuses: number[] = [];
    const violations: number[] = [];
    let duringScan = 0;
    while (scan.alive()) {
      const res = await fetch(`${serve.url}/api/v1/report?from=${WINDOW.from}&to=${WINDOW.to}`, { headers: { authorization: `Bearer ${token}` } });
      const body = await res.text();
      statuses.push(res.status);
      if (res.status === 200) violations.push((JSON.parse(body) as { totals: { violations: number } }).totals.violations);
      if (scan.alive()) duringScan += 1;
      await new Promise((r) => setTimeout(r, 50));
    }
    const result = await scan.done;
    expect([result.code, result.stderr.includes("in use by another process") ? result.stderr.slice(-400) : false]).toEqual([0, false]);
    expect(duringScan).toBeGreaterThan(3);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // Answers grow with the scan, never go back.
    expect(violations).toEqual([...violations].sort((a, b) => a - b));
    expect(violations[violations.length - 1]!).toBeGreaterThan(violations[0]!);

    const api = await fetch(`${serve.url}/api/v1/report?from=${WINDOW.from}&to=${WINDOW.to}`, { headers: { authorization: `Bearer ${token}` } });
    const cli = await run(['report', '--from', WINDOW.from, '--to', WINDOW.to, '--format', 'json', '--db', db]);
    expect(await api.text()).toBe(cli.stdout);

    // The next who-saw includes the scan's rows: each equals the CLI's answer on the finished store.
    const after = await Promise.all(numbers.map(whoSaw));
    const cliAfter = [];
    for (const number of numbers) cliAfter.push((await run(['who-saw', number, '--format', 'json', '--reason', 'ticket INC-77', '--db', db])).stdout);
    expect(after.map((a) => a.text)).toEqual(cliAfter);
    expect(after.filter((a, i) => a.text !== before[i]!.text).length).toBeGreaterThan(numbers.length / 2);
    const registry = await fetch(`${serve.url}/api/v1/registry`, { headers: { authorization: `Bearer ${token}` } });
    expect([registry.status, ((await registry.json()) as { region: string }).region]).toEqual([200, 'GB']);
  });
});
