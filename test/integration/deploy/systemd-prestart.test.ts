// Each unit of deploy/systemd runs its `ExecStartPre=… --check` before the service: here that
// exact line runs against the real Kafka and ClickHouse, with the CLI of this checkout in place
// of /usr/local/bin/leakscope and /etc/leakscope and /var/log/gateway/%i pointed at temporary
// files this test makes. A good configuration passes (exit 0); one thing broken per unit fails
// with the problem named. Needs `npm run build` (bin/ runs dist/).
//
// serve's unit passes no --db: it runs in a working directory holding ./leakscope.duckdb (the
// default store), without CLICKHOUSE_URL in its environment, so the unit's line is run as is.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, clickhouseQuery, requireClickHouse, requireKafka, uniqueName } from '../support/servers.js';

const exec = promisify(execFile);
const UNITS_DIR = path.join(REPO_ROOT, 'deploy/systemd');
const CLI = path.join(REPO_ROOT, 'bin/leakscope.js');
const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/incident');
const INSTANCE = 'gw-test';
const KEYS = {
  LEAKSCOPE_HASH_KEY: '1f'.repeat(32),
  LEAKSCOPE_ENC_KEY: 'a7'.repeat(32),
};
const SECRET = 'prestart-secret-0123456789abcdef';

interface Run { code: number; stdout: string; stderr: string }

async function cli(args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args], { env: options.env, cwd: options.cwd ?? REPO_ROOT, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

/** The unit's ExecStartPre, split into arguments, with the installed paths replaced by `paths`. */
function preStart(unit: string, paths: { etc: string; gateway: string }): string[] {
  const text = readFileSync(path.join(UNITS_DIR, unit), 'utf8');
  const lines = text.split('\n').filter((l) => l.startsWith('ExecStartPre='));
  expect(lines, `${unit}: one ExecStartPre`).toHaveLength(1);
  const line = lines[0]!.slice('ExecStartPre='.length).trim()
    .replaceAll('/var/log/gateway/%i', path.join(paths.gateway, INSTANCE))
    .replaceAll('/etc/leakscope', paths.etc);
  const argv = line.split(/\s+/);
  expect(argv[0], `${unit}: runs the installed CLI`).toBe('/usr/local/bin/leakscope');
  expect(argv, `${unit}: --check`).toContain('--check');
  return argv.slice(1);
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString().replace(/\/$/, '');
}

const UNITS = readdirSync(UNITS_DIR).filter((f) => f.endsWith('.service')).sort();

describe('deploy/systemd ExecStartPre --check against the real servers', () => {
  let dir = '';
  let etc = '';
  let gateway = '';
  let serveDir = '';
  let brokers: string[] = [];
  let migratedUrl = '';
  let unmigratedUrl = '';
  let baseEnv: NodeJS.ProcessEnv = {};
  let clickhouse = '';
  const databases: string[] = [];

  beforeAll(async () => {
    brokers = requireKafka();
    clickhouse = requireClickHouse();
    dir = mkdtempSync(path.join(tmpdir(), 'leakscope-prestart-'));
    etc = path.join(dir, 'etc');
    gateway = path.join(dir, 'gateway');
    serveDir = path.join(dir, 'serve');
    for (const d of [etc, path.join(gateway, INSTANCE), serveDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
    baseEnv = {
      PATH: process.env.PATH, HOME: process.env.HOME, ...KEYS,
      KAFKA_BROKERS: brokers.join(','), SOC_HOOK_SECRET: SECRET, LEAKSCOPE_LOG_LEVEL: 'warn',
    };
    migratedUrl = withDatabase(clickhouse, uniqueName('prestart'));
    unmigratedUrl = withDatabase(clickhouse, uniqueName('prestart_unmigrated'));
    databases.push(new URL(migratedUrl).pathname.slice(1), new URL(unmigratedUrl).pathname.slice(1));
    // The unmigrated database exists, empty, as `CREATE DATABASE` by hand would leave it.
    await clickhouseQuery(clickhouse, `CREATE DATABASE ${databases[1]!}`);

    writeFileSync(path.join(etc, 'notify.yaml'), [
      'routes:',
      '  - name: soc',
      '    url: https://soc.example/hooks/leakscope',
      '    format: leakscope',
      '    secret_env: SOC_HOOK_SECRET',
      '  - name: alertmanager',
      '    url: http://127.0.0.1:9093',
      '    format: alertmanager',
      '',
    ].join('\n'), { mode: 0o600 });

    const steps: Array<[string[], { env: NodeJS.ProcessEnv; cwd?: string }]> = [
      [['users', 'add', 'ops', '--role', 'admin', '--users', path.join(etc, 'leakscope.users.yaml')], { env: baseEnv }],
      [['scan', '--registry', path.join(FIXTURES, 'registry.yaml'), '--db', path.join(serveDir, 'leakscope.duckdb'),
        ...readdirSync(path.join(FIXTURES, 'logs')).sort().map((f) => path.join(FIXTURES, 'logs', f))], { env: baseEnv }],
      [['migrate', '--clickhouse', migratedUrl], { env: baseEnv }],
    ];
    for (const [args, options] of steps) {
      const r = await cli(args, options);
      expect(r.code, `leakscope ${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
  }, 180_000);

  afterAll(async () => {
    for (const db of databases) await clickhouseQuery(clickhouse, `DROP DATABASE IF EXISTS ${db}`).catch(() => undefined);
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  /** How each unit's --check is run: its environment (the unit's EnvironmentFile) and working directory. */
  function setting(unit: string): { env: NodeJS.ProcessEnv; cwd?: string } {
    if (unit.includes('serve')) return { env: baseEnv, cwd: serveDir };
    if (unit.includes('detect')) return { env: { ...baseEnv, CLICKHOUSE_URL: migratedUrl } };
    return { env: baseEnv };
  }

  it('finds the four units', () => {
    expect(UNITS).toEqual(['leakscope-detect.service', 'leakscope-notify.service', 'leakscope-serve.service', 'leakscope-ship@.service']);
  });

  for (const unit of UNITS) {
    it(`${unit}: its ExecStartPre passes with a good configuration`, async () => {
      const r = await cli(preStart(unit, { etc, gateway }), setting(unit));
      expect(r.code, `${unit}: ${r.stderr}`).toBe(0);
      if (unit.includes('detect')) expect(r.stdout).toMatch(/^detect: configuration ok \(/);
      if (unit.includes('serve')) expect(r.stdout).toMatch(/^serve: configuration ok \(/);
      if (unit.includes('ship')) expect(r.stdout).toMatch(/^ship: configuration ok \(/);
    }, 60_000);
  }

  it('leakscope-notify.service: a bad notify.yaml key is refused and named', async () => {
    const bad = path.join(dir, 'etc-bad-notify');
    mkdirSync(bad, { recursive: true });
    writeFileSync(path.join(bad, 'notify.yaml'), readFileSync(path.join(etc, 'notify.yaml'), 'utf8').replace('    format: leakscope', '    format: leakscope\n    colour: blue'));
    const r = await cli(preStart('leakscope-notify.service', { etc: bad, gateway }), setting('leakscope-notify.service'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('colour');
  }, 60_000);

  it('leakscope-serve.service: a missing users file is refused and named', async () => {
    const bad = path.join(dir, 'etc-no-users');
    mkdirSync(bad, { recursive: true });
    const r = await cli(preStart('leakscope-serve.service', { etc: bad, gateway }), setting('leakscope-serve.service'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(path.join(bad, 'leakscope.users.yaml'));
  }, 60_000);

  it('leakscope-detect.service: an unmigrated database is refused and named', async () => {
    const r = await cli(preStart('leakscope-detect.service', { etc, gateway }), { env: { ...baseEnv, CLICKHOUSE_URL: unmigratedUrl } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(new URL(unmigratedUrl).pathname.slice(1));
    expect(r.stderr).toContain('leakscope migrate');
  }, 60_000);

  it('leakscope-ship@.service: a missing log directory is refused and named', async () => {
    const missing = path.join(dir, 'no-such-gateway');
    const r = await cli(preStart('leakscope-ship@.service', { etc, gateway: missing }), setting('leakscope-ship@.service'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(path.join(missing, INSTANCE));
  }, 60_000);
});
