// A large registry loads whether written as JSON (read by JSON.parse) or YAML (read by an event
// parser without source ranges) (issue 7, item 17): equal keys are still refused as YAML refuses
// them, and YAML's explicit tags are reported as what they are.
import { describe, expect, it } from 'vitest';
import { LeakscopeError } from '../../../../services/core/errors.js';
import { buildSnapshot, parseRegistry } from '../../../../services/core/registry/index.js';

function problems(text: string): readonly string[] {
  try {
    parseRegistry(text, 'r');
  } catch (err) {
    if (err instanceof LeakscopeError) return err.problems;
    throw err;
  }
  throw new Error('expected the registry to be refused');
}

const partner = (i: number) => ({ id: `p${i}`, name: `Partner ${i}`, domains: [`*.partner${i}.example`, `partner${i}.example`], identifiers: ['x-msisdn'] });

describe('a JSON registry', () => {
  it('of 20,000 partners validates and builds a snapshot that finds them', () => {
    const text = JSON.stringify({ version: 'big', region: 'GB', partners: Array.from({ length: 20_000 }, (_, i) => partner(i)) });
    const registry = parseRegistry(text, 'big.json');
    expect(registry.partners).toHaveLength(20_000);
    const snapshot = buildSnapshot(registry);
    expect(snapshot.matchHost('www.partner19999.example').map((m) => m.entry.id)).toEqual(['p19999']);
    expect(snapshot.matchHost('partner7.example').map((m) => m.pattern)).toEqual(['partner7.example']);
  });

  it('refuses a key given twice in one object, naming the line and column', () => {
    expect(problems('{"version": "1", "region": "GB",\n "partners": [{"id": "a", "id": "b"}]}')).toEqual([
      'line 2, column 27: map keys must be unique; "id" is repeated',
    ]);
    expect(problems('{"version": "1", "region": "GB", "partners": [], "re\\u0067ion": "FR"}')[0]).toMatch(/"region" is repeated/);
  });

  it('accepts equal keys in different objects and strings that look like keys', () => {
    const text = JSON.stringify({ version: 'x:"id":', region: 'GB', partners: [partner(1), partner(2)] });
    expect(parseRegistry(text, 'r').partners).toHaveLength(2);
  });

  it('refuses a syntax error, naming its place when the parser gives one', () => {
    expect(problems('{"version": "1",\n  "region": GB}')[0]).toMatch(/^(?:line 2, column \d+|\(root\)): not valid JSON: /);
  });
});

describe('a YAML registry', () => {
  it('of 20,000 partners in block style validates and builds a snapshot that finds them', () => {
    const lines = ['version: big', 'region: GB', 'partners:'];
    for (let i = 0; i < 20_000; i++) {
      lines.push(`  - id: p${i}`, `    name: Partner ${i}`, `    domains: ["*.partner${i}.example", partner${i}.example]`, '    identifiers: [x-msisdn]');
    }
    const registry = parseRegistry(lines.join('\n') + '\n', 'big.yaml');
    expect(registry.partners).toHaveLength(20_000);
    expect(registry.partners[12_345]).toMatchObject({ id: 'p12345', name: 'Partner 12345', domains: ['*.partner12345.example', 'partner12345.example'] });
    expect(buildSnapshot(registry).matchHost('www.partner19999.example').map((m) => m.entry.id)).toEqual(['p19999']);
  });

  it('with a mistake deep inside names it by its path', () => {
    const lines = ['version: big', 'region: GB', 'partners:'];
    for (let i = 0; i < 5_000; i++) lines.push(`  - {id: p${i}, name: P, domains: [p${i}.example], identifiers: [${i === 4_321 ? 'host' : 'x-msisdn'}]}`);
    expect(problems(lines.join('\n'))).toEqual(['partners[4321].identifiers[0]: "host": the Host header is never scanned, so it cannot carry a disclosure']);
  });
});

describe('YAML explicit tags are reported as what they are', () => {
  it.each([
    ['!!timestamp 2012-01-01T00:00:00Z', /got a timestamp \(YAML !!timestamp/],
    ['!!binary aGVsbG8=', /got binary data \(YAML !!binary\)/],
    ['!!set {a}', /got a set \(YAML !!set\)/],
  ])('%s', (value, why) => {
    expect(problems(`version: ${value}\nregion: GB\npartners: []\n`).join('\n')).toMatch(why);
    expect(problems(`version: "1"\nregion: GB\npartners:\n  - ${value}\n`).join('\n')).toMatch(why);
  });
});
