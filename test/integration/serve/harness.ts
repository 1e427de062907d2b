// A real `leakscope serve` process for the API tests: started from the build (dist/), on a
// free loopback port, over a DuckDB fixture store or a fresh ClickHouse database holding the
// same disclosures; users made with `leakscope users add`.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openClickHouseStore } from '../../../services/store/clickhouse/index.js';
import { Protector } from '../../../services/store/index.js';
import { keyCheckOf } from '../../../services/keys/index.js';
import { DISCLOSURES, ENC_KEY_HEX, HASH_KEY_HEX, makeStore, run } from '../../unit/cli/query-fixture.js';
import { requireClickHouse, uniqueName } from '../support/servers.js';
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
  /** Drops what was made (the ClickHouse database). */
  cleanup(): Promise<void>;
}

export async function duckdbStore(): Promise<StoreUnderTest> {
  const fx = await makeStore();
  return { kind: 'duckdb', flags: ['--db', fx.db], env: {}, dir: fx.dir, cleanup: async () => undefined };
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
    kind: 'clickhouse', flags: ['--clickhouse', url], env, dir,
    cleanup: async () => {
      const db = base.pathname.slice(1);
      base.pathname = '/';
      await fetch(base, { method: 'POST', body: `DROP DATABASE IF EXISTS ${db}` }).catch(() => undefined);
    },
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
