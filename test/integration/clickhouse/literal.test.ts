// The literal formatter against the real parser: what ClickHouse decodes is what we meant.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clickhouseRows, requireClickHouse } from '../support/servers.js';
import { array, int, str, MAX_STRING_LITERAL } from '../../../services/store/clickhouse/literal.js';

const BASE = requireClickHouse();

async function decode(values: string[]): Promise<string[]> {
  const rows = await clickhouseRows<{ v: string[]; h: string[] }>(BASE,
    `SELECT ${array(values, str).text} AS v, arrayMap(x -> hex(x), v) AS h`);
  const { v, h } = rows[0]!;
  // Bytes too, not only the JSON reading of them.
  expect(h).toEqual(values.map((s) => Buffer.from(s, 'utf8').toString('hex').toUpperCase()));
  return v;
}

describe('ClickHouse string literals', () => {
  it('decode hostile strings to exactly what was formatted', async () => {
    const hostile = [
      '', "'", '\\', "\\'", "'); DROP TABLE x; --", 'a\nb\r\tc', 'nul\u0000nul', '\u0001\u001f\u007f',
      '\\x41\\0\\N\\t', '😀 ünïcödé 日本語 \u200b \u2028', '/* c */ -- c', '{name:String}', '?',
    ];
    expect(await decode(hostile)).toEqual(hostile);
  });

  it('decode a very long string', async () => {
    const long = `${"'\\\n".repeat(5000)}${'é'.repeat(MAX_STRING_LITERAL - 15_000)}`;
    expect(await decode([long])).toEqual([long]);
  });

  it('decode any well-formed string to itself', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.string({ unit: fc.oneof(fc.constantFrom("'", '\\', '\n', '\u0000', 'x', '`', '"'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), maxLength: 40 }), { minLength: 1, maxLength: 50 }),
      async (values) => { expect(await decode(values)).toEqual(values); },
    ), { numRuns: 40 });
  });

  it('decode 64-bit integers exactly', async () => {
    const rows = await clickhouseRows<{ a: string; b: string }>(BASE, `SELECT toInt64(${int(-(2n ** 63n)).text}) AS a, toUInt64(${int(2n ** 64n - 1n).text}) AS b`);
    expect(rows[0]).toEqual({ a: '-9223372036854775808', b: '18446744073709551615' });
  });
});
