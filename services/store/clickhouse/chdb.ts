// ClickHouse in-process: npm `chdb` (with its ~540 MB engine, @chdb/lib-linux-x64-gnu) gives a
// Connection that @clickhouse/client takes in place of HTTP. It is not a dependency `npm ci`
// installs: `deploy/local/stack provision` puts it under the stack's state folder, and it is
// loaded from there by path (LEAKSCOPE_CHDB_DIR overrides). See README.md ("chdb").
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClientConfigOptions } from '@clickhouse/client';
import { LeakscopeError } from '../../core/errors.js';

export const CHDB_DIR_ENV = 'LEAKSCOPE_CHDB_DIR';
const STACK_STATE_ENV = 'LEAKSCOPE_STACK_STATE';
const CHDB_INSTALL_COMMAND = 'bash deploy/local/stack provision';

type ChdbConnection = NonNullable<ClickHouseClientConfigOptions['connection']>;
interface ChdbConnectionModule {
  createChdbConnection(options: { path: string }): ChdbConnection;
}

/** The repository root, found upwards from this module (services/… under vitest, dist/… for the CLI). */
function repoRoot(): string | null {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'deploy/local/stack'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

/** The folder whose node_modules holds chdb: LEAKSCOPE_CHDB_DIR, else `<stack state>/chdb`. */
export function chdbDir(env: Readonly<Record<string, string | undefined>> = process.env): string | null {
  const explicit = env[CHDB_DIR_ENV]?.trim();
  if (explicit) return explicit;
  const state = env[STACK_STATE_ENV]?.trim();
  if (state) return join(state, 'chdb');
  const root = repoRoot();
  return root === null ? null : join(root, 'deploy/local/.state/chdb');
}

let loaded: { dir: string; module: ChdbConnectionModule } | null = null;

function load(env: Readonly<Record<string, string | undefined>>): ChdbConnectionModule {
  const dir = chdbDir(env);
  if (loaded !== null && loaded.dir === dir) return loaded.module;
  const where = dir ?? '(no folder: set LEAKSCOPE_CHDB_DIR)';
  const missing = (detail: string, cause?: unknown): never => {
    throw new LeakscopeError('CONFIG_INVALID',
      `chdb: store URLs need ClickHouse in-process (npm chdb with @chdb/lib-linux-x64-gnu, about 540 MB), which is not installed in ${where}: ${detail}. `
      + `Install it with: ${CHDB_INSTALL_COMMAND} (or set ${CHDB_DIR_ENV} to a folder where \`npm install chdb @chdb/lib-linux-x64-gnu\` ran)`,
      cause === undefined ? {} : { cause });
  };
  if (dir === null || !existsSync(join(dir, 'node_modules/chdb/package.json'))) missing('no node_modules/chdb there');
  try {
    const module = createRequire(join(dir!, 'package.json'))('chdb/connection') as ChdbConnectionModule;
    if (typeof module.createChdbConnection !== 'function') missing('chdb/connection has no createChdbConnection (an incompatible chdb release?)');
    loaded = { dir: dir!, module };
    return module;
  } catch (cause) {
    if (cause instanceof LeakscopeError) throw cause;
    return missing(`loading it failed (${String((cause as Error)?.message ?? cause).split('\n', 1)[0]})`, cause);
  }
}

/**
 * A chdb Connection on the data folder `path`. One process holds one chdb engine: every
 * connection must use the same folder (several stores on it share the engine; databases keep them apart).
 */
export function chdbConnection(path: string, env: Readonly<Record<string, string | undefined>> = process.env): ChdbConnection {
  const module = load(env);
  try {
    return module.createChdbConnection({ path });
  } catch (cause) {
    const message = String((cause as Error)?.message ?? cause).split('\n', 1)[0];
    throw new LeakscopeError('STORE_FAILED',
      `ClickHouse in-process (chdb) could not open ${path}: ${message}. One process can hold one chdb folder; another process may hold this one`,
      { cause, retryable: false });
  }
}
