// `leakscope migrate` in-process against the real server.
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../services/cli/main.js';
import type { CliIo } from '../../../services/cli/command.js';
import { clickhouseQuery, clickhouseRows, requireClickHouse, uniqueName } from '../support/servers.js';

const BASE = requireClickHouse();
const db = uniqueName('lk_cli_migrate');

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c) => out.push(String(c)));
  stderr.on('data', (c) => err.push(String(c)));
  const io: CliIo = { stdout, stderr, stdin: new PassThrough(), env, cwd: process.cwd() };
  const code = await main(argv, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

afterAll(async () => { await clickhouseQuery(BASE, `DROP DATABASE IF EXISTS ${db}`); });

describe('leakscope migrate', () => {
  const url = new URL(`/${db}`, BASE).toString();

  it('creates the database and schema, then does nothing the second time', async () => {
    const first = await run(['migrate', '--clickhouse', url]);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/applied migrations 1, 2; schema at version 2/);
    const second = await run(['migrate'], { CLICKHOUSE_URL: url });
    expect(second).toMatchObject({ code: 0, stderr: '' });
    expect(second.stdout).toMatch(/already at version 2, nothing to do/);
    const rows = await clickhouseRows<{ n: string }>(BASE, `SELECT count() AS n FROM system.tables WHERE database = '${db}'`);
    expect(Number(rows[0]!.n)).toBe(12); // 11 of migration 1, audit_log of migration 2
  });

  it('exits 2 without a URL and 1 when the server cannot be reached', async () => {
    expect(await run(['migrate'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/needs --clickhouse URL/) });
    const down = await run(['migrate', '--clickhouse', 'http://user:secret@127.0.0.1:1/leakscope']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/could not be reached/);
    expect(down.stderr).not.toContain('secret');
  });
});
