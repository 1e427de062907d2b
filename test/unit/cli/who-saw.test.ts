import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNumber } from '../../../services/audit/index.js';
import { HASH_KEY_HEX, OTHER_KEY_HEX, makeStore, run, type Fixture } from './query-fixture.js';

describe('leakscope who-saw', () => {
  let fx: Fixture;
  beforeAll(async () => { fx = await makeStore(); });
  afterAll(async () => { await rm(fx.dir, { recursive: true, force: true }); });

  it.each([
    [['+447700900123']],
    [['447700900123']],
    [['07700900123']],
    [['+44 7700 900123']],
    [['+44', '7700', '900123']],
    [['0044 (0)7700-900-123']],
    [['tel:+44-7700-900-123']],
    [['(07700) 900123']],
    [['(07700)', '900123']],
    [['7700900123']], // the national number without its trunk prefix
  ])('finds the same recipients for the number written as %j', async (number) => {
    const r = await run(['who-saw', '--reason', 'ticket INC-1', ...number, '--db', fx.db, '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const answer = JSON.parse(r.stdout);
    expect(answer.subscriber).toBe('+4477009****23');
    expect(answer.window).toEqual({ from: null, to: null });
    expect(answer.recipients.map((x: { host: string }) => x.host)).toEqual([
      'www.example.com', 'm.example.com', 'm.ageverify.example', '<script>alert(1)</script>', 'late.example.org',
    ]);
    expect(answer.recipients[2]).toEqual({
      site: 'ageverify.example', host: 'm.ageverify.example', verdict: 'authorized', partner: 'ageverify', requests: 1,
      identifiers: ['header:x-msisdn'], first_seen: '2012-01-10T10:00:00.000Z', last_seen: '2012-01-10T10:00:00.000Z',
    });
  });

  it('narrows to a window and prints it', async () => {
    const r = await run(['who-saw', '--reason', 'ticket INC-1', '07700900456', '--db', fx.db, '--format', 'json', '--from', '2012-01-10', '--to', '2012-01-12']);
    expect(r.code).toBe(0);
    const answer = JSON.parse(r.stdout);
    expect(answer.window).toEqual({ from: '2012-01-10T00:00:00.000Z', to: '2012-01-12T00:00:00.000Z' });
    expect(answer.recipients.map((x: { host: string }) => x.host)).toEqual(['www.example.com']);
  });

  it('prints a table that marks partners and never the full number', async () => {
    const r = await run(['who-saw', '--reason', 'ticket INC-1', '+447700900123', '--db', fx.db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Who saw +4477009****23');
    expect(r.stdout).toMatch(/m\.ageverify\.example\s+authorized\s+ageverify\s+1/);
    expect(r.stdout).not.toContain('447700900123');
  });

  it('prints csv with a header row', async () => {
    const r = await run(['who-saw', '--reason', 'ticket INC-1', '+447700900456', '--db', fx.db, '--format', 'csv']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\r\n').slice(0, 2)).toEqual([
      'subscriber,site,host,verdict,partner,requests,identifiers,first_seen,last_seen',
      "'+4477009****56,example.org,early.example.org,unauthorized_recipient,,1,header:x-msisdn,2012-01-09T23:00:00.000Z,2012-01-09T23:00:00.000Z", // a masked number is no number: disarmed for spreadsheets
    ]);
  });

  it('answers with no recipients for a number nobody saw', async () => {
    const r = await run(['who-saw', '--reason', 'ticket INC-1', '+447700900999', '--db', fx.db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No site received this number');
  });

  it.each(['hello', '98', '+9', '07700-900-123-456-789-0'])('refuses the unreadable number %j with exit 2, without echoing it', async (number) => {
    const r = await run(['who-saw', '--reason', 'ticket INC-1', number, '--db', fx.db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read the NUMBER given \(\d+ characters\) as a phone number of region GB/);
    expect(r.stderr).not.toContain(number);
  });

  it('refuses a missing NUMBER', async () => {
    const r = await run(['who-saw', '--reason', 'ticket INC-1', '--db', fx.db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('who-saw needs the subscriber NUMBER');
  });

  it('refuses a hash key that is not the one the data was stored with', async () => {
    const r = await run(['who-saw', '--reason', 'ticket INC-1', '+447700900123', '--db', fx.db], { env: { LEAKSCOPE_HASH_KEY: OTHER_KEY_HEX } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the key does not match the one the data was stored with');
  });

  it('accepts the right key from the environment instead of the key file', async () => {
    const r = await run(['who-saw', '--reason', 'ticket INC-1', '+447700900123', '--db', fx.db, '--format', 'json'], { env: { LEAKSCOPE_HASH_KEY: HASH_KEY_HEX } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).recipients).toHaveLength(5);
  });

  it('refuses when there is no key at all, and says how to give one', async () => {
    const copy = await makeStore();
    await rm(copy.keyFile);
    const r = await run(['who-saw', '--reason', 'ticket INC-1', '+447700900123', '--db', copy.db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('key file not found; set LEAKSCOPE_HASH_KEY');
    await rm(copy.dir, { recursive: true, force: true });
  });

  it('refuses a malformed key file', async () => {
    const copy = await makeStore();
    await writeFile(copy.keyFile, '{"version":1,"hash_key":"nope"}', { mode: 0o600 });
    const r = await run(['who-saw', '--reason', 'ticket INC-1', '+447700900123', '--db', copy.db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('key file is invalid');
    await rm(copy.dir, { recursive: true, force: true });
  });

  it.each([
    [['--from', '2012-01-12', '--to', '2012-01-10'], /is not before --to/],
    [['--to', '2012-02-30'], /--to "2012-02-30": day 30 does not exist in 2012-02/],
    [['--format', 'html'], /--format "html": expected one of table, json, csv/],
  ])('refuses %j', async (args, message) => {
    const r = await run(['who-saw', '--reason', 'ticket INC-1', '+447700900123', '--db', fx.db, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('refuses a store that does not exist', async () => {
    const r = await run(['who-saw', '--reason', 'ticket INC-1', '+447700900123', '--db', join(fx.dir, 'none.duckdb')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('run leakscope scan first');
  });
});

describe('who-saw reads NUMBER with the store\'s region (readNumber)', () => {
  it.each([
    ['+1 201 555 0123', 'US'], ['12015550123', 'US'], ['2015550123', 'US'], ['(201) 555-0123', 'US'],
    ['201-555-0123', 'US'], ['201.555.0123', 'US'], ['1 (201) 555-0123', 'US'], ['tel:+1-201-555-0123', 'US'],
    ['+1 (201) 555-0123', 'US'], ['001 201 555 0123', 'US'], ['tel:+1-201-555-0123', 'GB'], ['+12015550123', 'DE'],
  ])('%j in region %s is +12015550123', (raw, region) => {
    expect(readNumber(raw, region)).toBe('+12015550123');
  });

  it.each([['015123456789', 'DE', '+4915123456789'], ['15123456789', 'DE', '+4915123456789'], ['8123456789', 'IN', '+918123456789'], ['081234 56789', 'IN', '+918123456789']])(
    '%j in region %s is %s', (raw, region, e164) => {
      expect(readNumber(raw, region)).toBe(e164);
    });
});
