import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  array, float, ident, int, joinSql, MAX_STRING_LITERAL, nullable, qualified, sql, str, type Sql,
} from '../../../../services/store/clickhouse/literal.js';

/**
 * A small reference reader of ClickHouse string literals, as the server decodes the forms
 * our formatter emits: `\\`, `\'` and `\xHH`. Anything else after a backslash, a quote that
 * is not escaped, or a raw control character is an error — the formatter must never emit them.
 */
function unescape(literal: string): string {
  if (literal.length < 2 || !literal.startsWith("'") || !literal.endsWith("'")) throw new Error(`not quoted: ${literal}`);
  const body = literal.slice(1, -1);
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    const code = ch.charCodeAt(0);
    if (ch === "'") throw new Error(`unescaped quote at ${i}`);
    if (code < 0x20 || code === 0x7f) throw new Error(`raw control character ${code} at ${i}`);
    if (ch !== '\\') {
      // Copy a whole code point (surrogate pairs included) as UTF-8.
      const cp = body.codePointAt(i)!;
      const s = String.fromCodePoint(cp);
      bytes.push(...encoder.encode(s));
      i += s.length - 1;
      continue;
    }
    const next = body[i + 1];
    if (next === '\\' || next === "'") { bytes.push(next.charCodeAt(0)); i += 1; continue; }
    if (next === 'x' && /^[0-9a-f]{2}$/i.test(body.slice(i + 2, i + 4))) {
      bytes.push(parseInt(body.slice(i + 2, i + 4), 16));
      i += 3;
      continue;
    }
    throw new Error(`unexpected escape \\${next} at ${i}`);
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
}

const HOSTILE = [
  '',
  "'",
  "\\",
  "\\'",
  "'); DROP TABLE x; --",
  "' OR 1=1 --",
  "a'b\"c`d",
  'line\nbreak\r\n',
  'tab\tand\u0000nul',
  '\u0001\u001f\u007f',
  '\\x41\\0\\N',
  '😀 ünïcödé 日本語 \u200b \u2028',
  '/* comment */ -- comment',
  '}{$1:String}',
  'x'.repeat(MAX_STRING_LITERAL),
];

describe('str', () => {
  it.each(HOSTILE.map((s) => [JSON.stringify(s.slice(0, 40)), s]))('gives back %s when read as a literal', (_, s) => {
    expect(unescape(str(s).text)).toBe(s);
  });

  it('gives back any well-formed string when read as a literal', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (s) => unescape(str(s).text) === s), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => unescape(str(s).text) === s), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom("'", '\\', '\n', '\u0000', 'x', ';', '-', 'é', '😀'), maxLength: 60 }),
      (s) => unescape(str(s).text) === s), { numRuns: 2000 });
  });

  it('never leaves a raw control character or a bare quote in the SQL text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (s) => {
      const body = str(s).text.slice(1, -1);
      return !/[\u0000-\u001f\u007f]/.test(body) && !/(^|[^\\])(\\\\)*'/.test(body);
    }), { numRuns: 2000 });
  });

  it('refuses a lone surrogate, which has no UTF-8 form', () => {
    for (const s of ['\ud800', 'a\udc00b', '\udbff\udbff', '\ude00\ud83d']) {
      expect(() => str(s)).toThrow(/lone UTF-16 surrogate/);
    }
    expect(str('\ud83d\ude00').text).toBe("'😀'");
  });

  it('refuses a string longer than the limit, with STORE_FAILED not retryable', () => {
    let caught: unknown;
    try { str('x'.repeat(MAX_STRING_LITERAL + 1)); } catch (e) { caught = e; }
    expect(caught).toMatchObject({ code: 'STORE_FAILED', retryable: false });
  });

  it('for any sequence of UTF-16 units, either gives it back or refuses it for a lone surrogate', () => {
    const unit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));
    fc.assert(fc.property(fc.string({ unit, maxLength: 50 }), (s) => {
      const wellFormed = new TextDecoder().decode(new TextEncoder().encode(s)) === s;
      try { return unescape(str(s).text) === s && wellFormed; } catch (e) { return !wellFormed && /surrogate/.test((e as Error).message); }
    }), { numRuns: 3000 });
  });

  it('refuses what is not a string', () => {
    expect(() => str(1 as unknown as string)).toThrow(/not a string/);
  });
});

describe('int and float', () => {
  it('writes safe integers and bigints, parenthesising negatives', () => {
    expect(int(0).text).toBe('0');
    expect(int(1326187862123).text).toBe('1326187862123');
    expect(int(-5).text).toBe('(-5)');
    expect(int(2n ** 64n - 1n).text).toBe('18446744073709551615');
    expect(int(-(2n ** 63n)).text).toBe('(-9223372036854775808)');
    expect(sql`x -${int(-1)}`.text).toBe('x -(-1)'); // never `--`, a comment
  });

  it.each([[1.5], [NaN], [Infinity], [2 ** 53], ['1; DROP TABLE x' as unknown as number]])('refuses %s as an integer', (v) => {
    expect(() => int(v)).toThrow(/not a safe integer/);
  });

  it('refuses bigints outside Int64/UInt64', () => {
    expect(() => int(2n ** 64n)).toThrow(/outside/);
    expect(() => int(-(2n ** 63n) - 1n)).toThrow(/outside/);
  });

  it('writes finite floats and refuses the rest', () => {
    expect(float(1.5).text).toBe('1.5');
    expect(float(-0).text).toBe('0');
    expect(float(-2e-300).text).toBe('(-2e-300)');
    for (const v of [NaN, Infinity, -Infinity]) expect(() => float(v)).toThrow(/not a finite number/);
  });

  it('round-trips any safe integer', () => {
    fc.assert(fc.property(fc.maxSafeInteger(), (n) => Number(int(n).text.replace(/^\((.*)\)$/, '$1')) === n));
  });
});

describe('ident', () => {
  it.each(['leakscope', 'lk_replay_mww7t2sv_51c12ae2', '_x', 'A1', 'a'.repeat(64)])('accepts %s', (name) => {
    expect(ident(name).text).toBe(`\`${name}\``);
  });

  it.each(['', '1abc', 'a-b', 'a b', 'a`b', 'a.b', "a'b", 'a;DROP', 'ünï', 'a\u0000', 'a\n', 'a'.repeat(65), 'x` ; DROP TABLE y; --'])(
    'refuses %j',
    (name) => { expect(() => ident(name)).toThrow(/not an identifier/); },
  );

  it('refuses every string outside the strict pattern', () => {
    fc.assert(fc.property(fc.string({ maxLength: 70 }), (s) => {
      const ok = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(s);
      try { ident(s); return ok; } catch { return !ok; }
    }), { numRuns: 2000 });
  });

  it('qualifies a table with its database', () => {
    expect(qualified('leakscope', 'disclosures').text).toBe('`leakscope`.`disclosures`');
    expect(() => qualified('leakscope', 'x;y')).toThrow();
  });
});

describe('sql, arrays and nullable', () => {
  it('refuses a plain value interpolated past the type checker', () => {
    const plain = "1; DROP TABLE x" as unknown as Sql;
    expect(() => sql`SELECT ${plain}`).toThrow(/interpolated into SQL/);
    expect(() => joinSql([plain], ', ')).toThrow(/only Sql fragments/);
    const forged = { text: 'DROP TABLE x' } as unknown as Sql;
    expect(() => sql`SELECT ${forged}`).toThrow(/interpolated into SQL/);
  });

  it('builds arrays and nullables through the element formatter', () => {
    expect(array(["a'", 'b'], str).text).toBe("['a\\'', 'b']");
    expect(array([], str).text).toBe('[]');
    expect(array([1, -2], int).text).toBe('[1, (-2)]');
    expect(nullable(null, str).text).toBe('NULL');
    expect(nullable('x', str).text).toBe("'x'");
    expect(() => array(['a', 1 as unknown as string], str)).toThrow();
  });

  it('keeps fragments immutable', () => {
    const f = str('x');
    expect(Object.isFrozen(f)).toBe(true);
  });
});
