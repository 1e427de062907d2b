import { chmod, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HASH_KEY_HEX, OTHER_KEY_HEX, WINDOW, makeStore, run, type Fixture } from './query-fixture.js';

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

  it('refuses an encryption key that does not decrypt the data', async () => {
    const r = await run(base(), { env: { LEAKSCOPE_HASH_KEY: HASH_KEY_HEX, LEAKSCOPE_ENC_KEY: OTHER_KEY_HEX } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('could not decrypt: wrong key or corrupted value');
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
