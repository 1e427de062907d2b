// `leakscope migrate` in-process against the real server (18.16) and ClickHouse in-process (chdb).
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../services/cli/main.js';
import type { CliIo } from '../../../services/cli/command.js';
import { clickhouseQuery, clickhouseRows, clickhouseTargets, requireChdb, requireClickHouse, requireClusters, uniqueName } from '../support/servers.js';
import { LATEST_VERSION, MIGRATIONS } from '../../../services/store/clickhouse/migrations.js';

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

describe.each(clickhouseTargets())('leakscope migrate on $name', (target) => {
  const db = uniqueName('lk_cli_migrate');
  const url = target.url(db);
  afterAll(async () => { await clickhouseQuery(target.base, `DROP DATABASE IF EXISTS ${db}`); });

  it('creates the database and schema, then does nothing the second time', async () => {
    const first = await run(['migrate', '--clickhouse', url]);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toContain(`applied migrations ${MIGRATIONS.map((m) => m.version).join(', ')}; schema at version ${LATEST_VERSION}`);
    const second = await run(['migrate'], { CLICKHOUSE_URL: url });
    expect(second).toMatchObject({ code: 0, stderr: '' });
    expect(second.stdout).toContain(`already at version ${LATEST_VERSION}, nothing to do`);
    const rows = await clickhouseRows<{ n: string }>(target.base, `SELECT count() AS n FROM system.tables WHERE database = '${db}'`);
    expect(Number(rows[0]!.n)).toBe(13); // 11 of migration 1, audit_log of migration 2, alerts of migration 3
  });

});

describe('leakscope migrate, refusals', () => {
  it('exits 2 without a URL and 1 when the server cannot be reached', async () => {
    expect(await run(['migrate'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/needs --clickhouse URL/) });
    const down = await run(['migrate', '--clickhouse', 'http://user:secret@127.0.0.1:1/leakscope']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/could not be reached/);
    expect(down.stderr).not.toContain('secret');
  });

  it('with --cluster: refuses a bad name (2), a cluster the server does not know (2), chdb (2), and says which cluster it migrated', async () => {
    expect(await run(['migrate', '--clickhouse', requireClickHouse(), '--cluster', 'a;b'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--cluster takes a cluster name/) });
    const db = uniqueName('lk_cli_migrate_cluster');
    expect(await run(['migrate', '--clickhouse', new URL(`/${db}`, requireClickHouse()).toString(), '--cluster', 'leakscope_cluster']))
      .toMatchObject({ code: 2, stderr: expect.stringMatching(/cluster "leakscope_cluster" is not in the remote_servers/) });
    expect(await run(['migrate', '--clickhouse', `${requireChdb()}?database=${db}`, '--cluster', 'leakscope_cluster']))
      .toMatchObject({ code: 2, stderr: expect.stringMatching(/chdb \(in-process\) cannot be one/) });
    const { nodes, clickhouseCluster } = requireClusters();
    const url = new URL(`/${db}`, nodes[0]!).toString();
    try {
      const done = await run(['migrate', '--clickhouse', url, '--cluster', clickhouseCluster]);
      expect(done).toMatchObject({ code: 0, stderr: '' });
      expect(done.stdout).toContain(`(cluster ${clickhouseCluster}): applied migrations`);
    } finally {
      await clickhouseQuery(nodes[0]!, `DROP DATABASE IF EXISTS ${db} ON CLUSTER ${clickhouseCluster}`);
    }
  });
});
