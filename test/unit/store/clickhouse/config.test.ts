import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clickhouseConfig } from '../../../../services/store/clickhouse/config.js';
import { clickhouseError } from '../../../../services/store/clickhouse/client.js';
import { parseVersion, versionAtLeast } from '../../../../services/store/clickhouse/version.js';

describe('clickhouseConfig', () => {
  it('takes the database from the URL path, default leakscope', () => {
    expect(clickhouseConfig('http://127.0.0.1:38123/leakscope')).toMatchObject({ endpoint: 'http://127.0.0.1:38123/', database: 'leakscope', user: null });
    expect(clickhouseConfig('http://127.0.0.1:8123').database).toBe('leakscope');
    expect(clickhouseConfig('https://u:p%40ss@ch.example:8443/other/').database).toBe('other');
    expect(clickhouseConfig('https://u:p%40ss@ch.example:8443/other/')).toMatchObject({ user: 'u', password: 'p@ss', endpoint: 'https://ch.example:8443/' });
  });

  it('is frozen and has documented defaults', () => {
    const c = clickhouseConfig('http://h:1/db');
    expect(Object.isFrozen(c)).toBe(true);
    expect(c).toMatchObject({ requestTimeoutMs: 30_000, maxRowsPerInsert: 100_000 });
  });

  it.each([
    ['not a url', /cannot be read/],
    ['ftp://h/db', /protocol ftp:/],
    ['http://h/db;DROP', /not a plain identifier/],
    ['http://h/a/b', /not a plain identifier/],
    ['http://h/db?database=x', /query or fragment/],
  ])('refuses %s naming what is wrong', (url, message) => {
    expect(() => clickhouseConfig(url)).toThrow(message);
    try { clickhouseConfig(url); } catch (e) { expect(e).toMatchObject({ code: 'CONFIG_INVALID' }); }
  });

  it('refuses unknown options and bad values', () => {
    expect(() => clickhouseConfig('http://h/db', { timeout: 5 } as never)).toThrow(/timeout: unknown key; expected one of requestTimeoutMs, maxRowsPerInsert/);
    expect(() => clickhouseConfig('http://h/db', { requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs is 0: expected at least 1/);
    expect(() => clickhouseConfig('http://h/db', { maxRowsPerInsert: 1.5 })).toThrow(/maxRowsPerInsert/);
  });
});

describe('clickhouseError', () => {
  const http = clickhouseConfig('http://127.0.0.1:38123/db', { requestTimeoutMs: 700 });
  const server = (code: string, message: string) => Object.assign(new Error(message), { name: 'ClickHouseError', code });

  it.each([
    ['a passing overload (TOO_MANY_SIMULTANEOUS_QUERIES)', server('202', 'Too many simultaneous queries'), true, /code 202/],
    ['ZooKeeper away', server('225', 'No ZooKeeper'), true, /code 225/],
    ['an unknown table', server('60', "Table db.x doesn't exist."), false, /refused .*code 60.*doesn't exist/],
    ['a syntax error', server('62', 'Syntax error'), false, /code 62/],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), true, /could not be reached.*ECONNREFUSED/],
    ['a reset socket', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), true, /ECONNRESET/],
    ["the client's timeout", new Error('Timeout error.'), true, /no answer within 700 ms/],
    ["18.16's error text, which the client does not parse", new Error("Code: 60, e.displayText() = DB::Exception: Table x.y doesn't exist., e.what() = DB::Exception\n"), false, /code 60\): Table x\.y doesn't exist\.$/],
    ['18.16 out of memory', new Error('Code: 241, e.displayText() = DB::Exception: Memory limit exceeded'), true, /code 241/],
    ['anything else', new Error('ResultSet has been closed'), false, /failed SELECT 1: ResultSet has been closed/],
  ])('decides retryable from %s', (_what, err, retryable, message) => {
    const e = clickhouseError(err, http, 'SELECT 1');
    expect(e).toMatchObject({ code: 'STORE_FAILED', retryable });
    expect(e.message).toMatch(message);
    expect(e.cause).toBe(err);
  });

  it('names the chdb folder, never a password', () => {
    const withPassword = clickhouseConfig('http://u:secret@127.0.0.1:1/db');
    expect(clickhouseError(new Error('x'), withPassword, 'q').message).not.toContain('secret');
    expect(clickhouseError(server('60', 'gone'), clickhouseConfig('chdb:/tmp/ch'), 'q').message).toMatch(/in-process \(chdb\) at \/tmp\/ch/);
  });
});

describe('chdb store URLs', () => {
  it('take a folder and an optional database, resolved to an absolute path', () => {
    expect(clickhouseConfig('chdb:/var/lib/lk')).toMatchObject({ kind: 'chdb', chdbPath: '/var/lib/lk', database: 'leakscope', endpoint: null, compression: false });
    expect(clickhouseConfig('chdb:/var/lib/lk?database=other').database).toBe('other');
    expect(clickhouseConfig('chdb:rel/dir').chdbPath).toBe(resolve('rel/dir'));
  });

  it.each([
    ['chdb:', /names no folder/],
    ['chdb:/x?db=y', /parameter "db"/],
    ['chdb:/x?database=a;b', /not a plain identifier/],
  ])('refuses %s naming what is wrong', (url, message) => {
    expect(() => clickhouseConfig(url)).toThrow(message);
  });

  it('compress over the network and not on loopback unless told', () => {
    expect(clickhouseConfig('http://127.0.0.1:1/db').compression).toBe(false);
    expect(clickhouseConfig('http://localhost:1/db').compression).toBe(false);
    expect(clickhouseConfig('https://ch.example:8443/db').compression).toBe(true);
    expect(clickhouseConfig('http://127.0.0.1:1/db', { compression: true }).compression).toBe(true);
    expect(() => clickhouseConfig('http://h/db', { compression: 'yes' as never })).toThrow(/compression/);
  });
});

describe('versions', () => {
  it('reads and compares server versions', () => {
    expect(parseVersion('18.16.1')).toEqual({ text: '18.16.1', major: 18, minor: 16, patch: 1 });
    expect(parseVersion('24.8.4.13').major).toBe(24);
    expect(versionAtLeast(parseVersion('18.16.1'), 18, 16)).toBe(true);
    expect(versionAtLeast(parseVersion('18.14.9'), 18, 16)).toBe(false);
    expect(versionAtLeast(parseVersion('19.1.0'), 18, 16)).toBe(true);
    expect(() => parseVersion('')).toThrow(/cannot be read/);
  });
});
