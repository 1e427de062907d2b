import { chmod, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { EXIT_PARTIAL } from '../../../services/cli/command.js';
import { subscriberHash } from '../../../services/core/privacy/index.js';
import { ALICE, BOB, HASH_KEY_HEX, OTHER_KEY_HEX, WINDOW, makeStore, run, type Fixture } from './query-fixture.js';

/** Runs one statement on a DuckDB file, as someone with write access to it could. */
async function sql(db: string, statement: string): Promise<void> {
  const instance = await DuckDBInstance.create(db);
  const connection = await instance.connect();
  try {
    await connection.run(statement);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const HEADER = 'msisdn,sites,first_exposure,last_exposure,violations';

describe('leakscope export-affected', () => {
  let fx: Fixture;
  beforeAll(async () => { fx = await makeStore(); });
  afterAll(async () => { await rm(fx.dir, { recursive: true, force: true }); });

  const base = () => ['export-affected', '--reason', 'notification INC-2', '--from', WINDOW.from, '--to', WINDOW.to, '--db', fx.db];

  it('lists every subscriber with a violation in the window, number decrypted, by first exposure', async () => {
    const r = await run(base());
    expect(r.code).toBe(0);
    expect(r.stdout.split('\r\n')).toEqual([
      HEADER,
      '+447700900123,<script>alert(1)</script>;example.com,2012-01-10T09:31:02.123Z,2012-01-20T23:59:59.000Z,3',
      '+447700900456,example.com;xn--bcher-kva.example,2012-01-11T12:00:00.000Z,2012-01-12T08:00:00.000Z,2',
      '',
    ]);
    expect(r.stderr).toContain('2 affected subscribers written to standard output: it holds personal data');
  });

  it('writes --out owner-only (0600), also over an existing file readable by others', async () => {
    const out = join(fx.dir, 'affected.csv');
    await writeFile(out, 'old');
    await chmod(out, 0o644);
    const r = await run([...base(), '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`2 affected subscribers written to ${out} (mode 0600`);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect((await readFile(out, 'utf8')).startsWith(`${HEADER}\r\n+447700900123,`)).toBe(true);
  });

  it('refuses without the encryption key, and says how to give it', async () => {
    const r = await run(base(), { env: { LEAKSCOPE_HASH_KEY: HASH_KEY_HEX } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('export-affected needs the encryption key');
    expect(r.stderr).toContain('LEAKSCOPE_ENC_KEY');
  });

  it('refuses a store scanned without an encryption key, rather than leaving subscribers out', async () => {
    const bare = await makeStore({ withEncKey: false });
    const r = await run(['export-affected', '--reason', 'notification INC-2', '--from', WINDOW.from, '--to', WINDOW.to, '--db', bare.db],
      { env: { LEAKSCOPE_HASH_KEY: HASH_KEY_HEX, LEAKSCOPE_ENC_KEY: '44'.repeat(32) } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('2 of 2 affected subscribers were stored without their encrypted number');
    await rm(bare.dir, { recursive: true, force: true });
  });

  it('refuses a hash key that is not the one the data was stored with', async () => {
    const r = await run(base(), { env: { LEAKSCOPE_HASH_KEY: OTHER_KEY_HEX, LEAKSCOPE_ENC_KEY: '22'.repeat(32) } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the key does not match the one the data was stored with');
  });

  it('refuses an encryption key other than the one the store records a check of, before decrypting anything', async () => {
    const out = join(fx.dir, 'never.csv');
    const r = await run([...base(), '--out', out], { env: { LEAKSCOPE_HASH_KEY: HASH_KEY_HEX, LEAKSCOPE_ENC_KEY: OTHER_KEY_HEX } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the store\'s numbers were encrypted with another encryption key');
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
  });

  it('refuses, on a store with no encryption-key check, a key that decrypts no subscriber', async () => {
    const legacy = await makeStore({ recordEncKeyCheck: false });
    const r = await run(['export-affected', '--reason', 'notification INC-2', '--from', WINDOW.from, '--to', WINDOW.to, '--db', legacy.db],
      { env: { LEAKSCOPE_HASH_KEY: HASH_KEY_HEX, LEAKSCOPE_ENC_KEY: OTHER_KEY_HEX } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('2 of 2 affected subscribers have an encrypted number that does not decrypt');
    expect(r.stderr).toContain('could not decrypt: wrong key or corrupted value');
    await rm(legacy.dir, { recursive: true, force: true });
  });

  describe('with one subscriber\'s stored number damaged', () => {
    const bobHash = subscriberHash(Buffer.from(HASH_KEY_HEX, 'hex'), BOB);
    const aliceHash = subscriberHash(Buffer.from(HASH_KEY_HEX, 'hex'), ALICE);

    it('exports everyone else, names the one that does not decrypt by masked number and first exposure, and exits 3', async () => {
      const damaged = await makeStore();
      // Flip one byte of the ciphertext body: AES-GCM's tag then fails.
      await sql(damaged.db, `UPDATE disclosures SET subscriber_enc = substr(subscriber_enc, 1, length(subscriber_enc) - 6)
        || CASE WHEN substr(subscriber_enc, length(subscriber_enc) - 5, 1) = 'A' THEN 'B' ELSE 'A' END
        || substr(subscriber_enc, length(subscriber_enc) - 4) WHERE subscriber_hash = '${bobHash}'`);
      const out = join(damaged.dir, 'affected.csv');
      const r = await run(['export-affected', '--reason', 'notification INC-2', '--from', WINDOW.from, '--to', WINDOW.to, '--db', damaged.db, '--out', out]);
      expect(r.code).toBe(EXIT_PARTIAL);
      expect(EXIT_PARTIAL).toBe(3);
      expect((await readFile(out, 'utf8')).split('\r\n')).toEqual([
        HEADER, '+447700900123,<script>alert(1)</script>;example.com,2012-01-10T09:31:02.123Z,2012-01-20T23:59:59.000Z,3', '',
      ]);
      expect(r.stderr).toContain('1 of 2 affected subscribers could not be listed and are NOT in the export');
      expect(r.stderr).toContain('  - +4477009****56, first exposure 2012-01-11T12:00:00.000Z: has an encrypted number that does not decrypt');
      expect(r.stderr).not.toContain(BOB.slice(1));
      await rm(damaged.dir, { recursive: true, force: true });
    });

    it('leaves out a ciphertext swapped in from another subscriber, which decrypts but to the wrong number', async () => {
      const swapped = await makeStore();
      await sql(swapped.db, `UPDATE disclosures SET subscriber_enc = (SELECT max(subscriber_enc) FROM disclosures WHERE subscriber_hash = '${aliceHash}')
        WHERE subscriber_hash = '${bobHash}'`);
      const r = await run(['export-affected', '--reason', 'notification INC-2', '--from', WINDOW.from, '--to', WINDOW.to, '--db', swapped.db]);
      expect(r.code).toBe(3);
      expect(r.stdout.split('\r\n').filter((l) => l.startsWith('+'))).toEqual([expect.stringMatching(/^\+447700900123,/)]);
      expect(r.stderr).toContain('+4477009****56, first exposure 2012-01-11T12:00:00.000Z: has an encrypted number that decrypts to another subscriber\'s number');
      await rm(swapped.dir, { recursive: true, force: true });
    });
  });

  it.each([
    [['--from', WINDOW.from], /export-affected needs --to TIME/],
    [['--from', '2012-01-10T25:00Z', '--to', WINDOW.to], /--from "2012-01-10T25:00Z": hour, minute or second out of range/],
    [['--from', WINDOW.to, '--to', WINDOW.from], /is not before --to/],
  ])('refuses %j', async (args, message) => {
    const r = await run(['export-affected', '--reason', 'notification INC-2', ...args, '--db', fx.db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('refuses a store that does not exist', async () => {
    const r = await run(['export-affected', '--reason', 'notification INC-2', '--from', WINDOW.from, '--to', WINDOW.to, '--db', join(fx.dir, 'none.duckdb')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('run leakscope scan first');
  });
});
