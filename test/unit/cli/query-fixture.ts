// A small DuckDB store for the query-command tests (report, who-saw, export-affected), written
// the way `scan` writes one: disclosures protected with known keys, meta with region and key check.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { CliIo } from '../../../services/cli/command.js';
import { main } from '../../../services/cli/main.js';
import { encKeyCheckOf, keyCheckOf } from '../../../services/keys/index.js';
import type { Disclosure } from '../../../services/core/types.js';
import { openDuckDbStore } from '../../../services/store/duckdb/index.js';
import { Protector } from '../../../services/store/index.js';

export const HASH_KEY_HEX = '11'.repeat(32);
export const ENC_KEY_HEX = '22'.repeat(32);
export const OTHER_KEY_HEX = '33'.repeat(32);

export const WINDOW = { from: '2012-01-10T00:00:00Z', to: '2012-01-25T14:00:00Z' };
export const ALICE = '+447700900123';
export const BOB = '+447700900456';

let n = 0;
function disclosure(over: Partial<Disclosure> & Pick<Disclosure, 'ts' | 'host' | 'site'>): Disclosure {
  n += 1;
  return {
    id: `d${n}`, requestKey: `gw:${n}`, subscriber: ALICE, channels: ['header:x-msisdn'], verdict: 'unauthorized_recipient',
    partnerId: null, registryVersion: 'r1', gatewayId: 'gw-lon-01', bearer: '3g', method: 'GET', scheme: 'http',
    path: '/', queryMasked: '', status: 200, ...over,
  };
}

const t = (iso: string) => Date.parse(iso);

/** Worked out by hand in the tests: 5 violations in the window, 2 subscribers, 3 sites. */
export const DISCLOSURES: Disclosure[] = [
  disclosure({ ts: t('2012-01-10T09:31:02.123Z'), host: 'www.example.com', site: 'example.com' }),
  disclosure({ ts: t('2012-01-10T09:45:00.000Z'), host: 'm.example.com', site: 'example.com', channels: ['header:x-msisdn', 'url'] }),
  disclosure({ ts: t('2012-01-10T10:00:00.000Z'), host: 'm.ageverify.example', site: 'ageverify.example', verdict: 'authorized', partnerId: 'ageverify' }),
  disclosure({ ts: t('2012-01-11T12:00:00.000Z'), host: 'www.example.com', site: 'example.com', subscriber: BOB, channels: ['url'] }),
  disclosure({ ts: t('2012-01-12T08:00:00.000Z'), host: 'xn--bcher-kva.example', site: 'xn--bcher-kva.example', subscriber: BOB, channels: ['header:x-up-calling-line-id'] }),
  disclosure({ ts: t('2012-01-20T23:59:59.000Z'), host: '<script>alert(1)</script>', site: '<script>alert(1)</script>', channels: ['referer'] }),
  // Outside the window: exactly at its end, and before it.
  disclosure({ ts: t('2012-01-25T14:00:00.000Z'), host: 'late.example.org', site: 'example.org' }),
  disclosure({ ts: t('2012-01-09T23:00:00.000Z'), host: 'early.example.org', site: 'example.org', subscriber: BOB }),
];

export interface Fixture {
  dir: string;
  db: string;
  keyFile: string;
}

/** A DuckDB store with DISCLOSURES, meta (region GB, key checks) and a key file next to it. */
export async function makeStore(options: { withEncKey?: boolean; recordEncKeyCheck?: boolean } = {}): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'leakscope-query-'));
  const db = join(dir, 'leakscope.duckdb');
  const withEncKey = options.withEncKey ?? true;
  const keys = { hashKey: Buffer.from(HASH_KEY_HEX, 'hex'), encKey: withEncKey ? Buffer.from(ENC_KEY_HEX, 'hex') : null };
  const store = await openDuckDbStore(db);
  try {
    const protector = new Protector(keys);
    await store.write(DISCLOSURES.map((d) => protector.toStored(d)));
    // A store written before the encryption-key check existed has none: recordEncKeyCheck false.
    const encKeyCheck = options.recordEncKeyCheck === false ? null : encKeyCheckOf(keys);
    await store.writeMeta({ region: 'GB', keyCheck: keyCheckOf(keys), ...(encKeyCheck === null ? {} : { encKeyCheck }) });
  } finally {
    await store.close();
  }
  const keyFile = `${db}.keys.json`;
  await writeFile(keyFile, JSON.stringify({ version: 1, hash_key: HASH_KEY_HEX, enc_key: withEncKey ? ENC_KEY_HEX : null }), { mode: 0o600 });
  return { dir, db, keyFile };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { chunks.push(String(chunk)); done(); } });
  return { stream, text: () => chunks.join('') };
}

/** Runs the CLI in-process, as `leakscope ARGV`, with its own environment (none of the caller's). */
export async function run(argv: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<RunResult> {
  const out = collector();
  const err = collector();
  const io: CliIo = { stdout: out.stream, stderr: err.stream, stdin: process.stdin, env: options.env ?? {}, cwd: options.cwd ?? process.cwd() };
  const code = await main(argv, io);
  return { code, stdout: out.text(), stderr: err.text() };
}
