import { describe, expect, it } from 'vitest';
import { clickhouseConfig } from '../../../../services/store/clickhouse/config.js';
import { parseServerError } from '../../../../services/store/clickhouse/http.js';
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

describe('parseServerError', () => {
  it('reads the code of 18.16 and current messages', () => {
    expect(parseServerError("Code: 60, e.displayText() = DB::Exception: Table x.y doesn't exist., e.what() = DB::Exception\n"))
      .toEqual({ code: 60, message: "Table x.y doesn't exist." });
    expect(parseServerError('Code: 62. DB::Exception: Syntax error: failed at position 1. (SYNTAX_ERROR) (version 24.8.1.1)\n'))
      .toMatchObject({ code: 62 });
    expect(parseServerError('Bad Gateway')).toEqual({ code: null, message: 'Bad Gateway' });
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
