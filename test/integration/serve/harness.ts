// A real `leakscope serve` process for the API tests: started from the build (dist/), on a
// free loopback port, over a DuckDB fixture store or a fresh ClickHouse database holding the
// same disclosures; users made with `leakscope users add`.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chdbDir, openClickHouseStore } from '../../../services/store/clickhouse/index.js';
import { Protector } from '../../../services/store/index.js';
import { keyCheckOf } from '../../../services/keys/index.js';
import { DISCLOSURES, ENC_KEY_HEX, HASH_KEY_HEX, makeStore, run } from '../../unit/cli/query-fixture.js';
import { requireChdb, requireClickHouse, uniqueName } from '../support/servers.js';
import type { Role } from '../../../services/users/index.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(REPO, 'bin/leakscope.js');

export function requireBuild(): void {
  if (!existsSync(join(REPO, 'dist/cli/commands/serve.js'))) {
    throw new Error(`${REPO}dist has no build of serve: run \`npm run build\` first (npm test does)`);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Where the data is and how the CLI reaches it: `--db PATH` or `--clickhouse URL` plus the key environment. */
export interface StoreUnderTest {
  kind: 'duckdb' | 'clickhouse';
  flags: string[];
  env: Record<string, string>;
  dir: string;
  /**
   * True when one process at a time may hold the store (chdb: ClickHouse in-process locks its
   * folder), so the CLI can only read it while `serve` is stopped.
   */
  exclusive: boolean;
  /** Runs the CLI on the store: in this process, or as a process of its own for an exclusive store. */
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Drops what was made (the ClickHouse database). */
  cleanup(): Promise<void>;
}

export async function duckdbStore(): Promise<StoreUnderTest> {
  const fx = await makeStore();
  return { kind: 'duckdb', flags: ['--db', fx.db], env: {}, dir: fx.dir, exclusive: false, cli: (args) => run(args), cleanup: async () => undefined };
}

/** A fresh ClickHouse database (migrated) with the fixture's disclosures, protected with the fixture's keys. */
export async function clickhouseStore(): Promise<StoreUnderTest> {
  const base = new URL(requireClickHouse());
  base.pathname = `/${uniqueName('serve')}`;
  const url = base.toString();
  const env = { LEAKSCOPE_HASH_KEY: HASH_KEY_HEX, LEAKSCOPE_ENC_KEY: ENC_KEY_HEX };
  const migrated = await run(['migrate', '--clickhouse', url], { env });
  if (migrated.code !== 0) throw new Error(`migrate failed: ${migrated.stderr}`);
  const keys = { hashKey: Buffer.from(HASH_KEY_HEX, 'hex'), encKey: Buffer.from(ENC_KEY_HEX, 'hex') };
  const store = await openClickHouseStore(url);
  const protector = new Protector(keys);
  await store.write(DISCLOSURES.map((d) => protector.toStored(d)));
  await store.writeMeta({ region: 'GB', keyCheck: keyCheckOf(keys) });
  await store.close();
  const dir = await mkdtemp(join(tmpdir(), 'leakscope-serve-ch-'));
  return {
    kind: 'clickhouse', flags: ['--clickhouse', url], env, dir, exclusive: false, cli: (args) => run(args, { env }),
    cleanup: async () => {
      const db = base.pathname.slice(1);
      base.pathname = '/';
      await fetch(base, { method: 'POST', body: `DROP DATABASE IF EXISTS ${db}` }).catch(() => undefined);
    },
  };
}

/** Runs `leakscope ARGS` as a process of its own (from dist/). */
export async function cliProcess(args: string[], env: Record<string, string>, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  requireBuild();
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  child.stdin!.end(input ?? '');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code: code ?? -1, stdout, stderr };
}

/**
 * A fresh chdb (ClickHouse in-process, a current release) folder with the fixture's
 * disclosures, written by processes of their own: the folder is held by one process at a
 * time, and `serve` is to hold it next.
 */
export async function chdbStore(): Promise<StoreUnderTest> {
  requireBuild();
  const folder = chdbDir();
  if (folder === null || !existsSync(join(folder, 'node_modules/chdb/package.json'))) requireChdb(); // fails with the command that installs it
  const dir = await mkdtemp(join(tmpdir(), 'leakscope-serve-chdb-'));
  const url = `chdb:${join(dir, 'data')}?database=serve`;
  const env = { LEAKSCOPE_HASH_KEY: HASH_KEY_HEX, LEAKSCOPE_ENC_KEY: ENC_KEY_HEX, LEAKSCOPE_CHDB_DIR: folder! };
  const migrated = await cliProcess(['migrate', '--clickhouse', url], env);
  if (migrated.code !== 0) throw new Error(`migrate failed: ${migrated.stderr}`);
  const keys = { hashKey: Buffer.from(HASH_KEY_HEX, 'hex'), encKey: Buffer.from(ENC_KEY_HEX, 'hex') };
  const protector = new Protector(keys);
  const rows = JSON.stringify({ rows: DISCLOSURES.map((d) => protector.toStored(d)), keyCheck: keyCheckOf(keys) });
  const script = `import { openClickHouseStore } from ${JSON.stringify(join(REPO, 'dist/store/clickhouse/index.js'))};
    let text = ''; for await (const c of process.stdin) text += c;
    const { rows, keyCheck } = JSON.parse(text);
    const store = await openClickHouseStore(${JSON.stringify(url)});
    await store.write(rows); await store.writeMeta({ region: 'GB', keyCheck }); await store.close();`;
  const filled = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', ...env } });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.stdin!.end(rows);
    child.on('close', (code) => resolve({ code, stderr }));
  });
  if (filled.code !== 0) throw new Error(`writing the fixture to chdb failed: ${filled.stderr}`);
  return {
    kind: 'clickhouse', flags: ['--clickhouse', url], env, dir, exclusive: true, cli: (args) => cliProcess(args, env),
    cleanup: async () => { await rm(dir, { recursive: true, force: true }); },
  };
}

/** Adds a user with `leakscope users add` and returns its token (the command's whole stdout). */
export async function addUser(usersFile: string, name: string, role: Role): Promise<string> {
  const r = await run(['users', 'add', name, '--role', role, '--users', usersFile]);
  if (r.code !== 0) throw new Error(`users add failed: ${r.stderr}`);
  return r.stdout.trim();
}

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServe(args: string[], env: Record<string, string>, options: { scheme?: 'http' | 'https' } = {}): Promise<ServeProcess> {
  requireBuild();
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve', '--listen', `127.0.0.1:${port}`, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start within 60 s:\n${err}`)), 60_000);
    const check = () => {
      if (err.includes('leakscope serve: listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr!.on('data', check);
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`serve exited with ${code} before listening:\n${err}`)); });
  });
  return {
    url: `${options.scheme ?? 'http'}://127.0.0.1:${port}`,
    child,
    stderr: () => err,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
