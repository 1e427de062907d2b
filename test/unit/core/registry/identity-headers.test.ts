import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BUILTIN_IDENTITY_HEADER_NAMES, BUILTIN_IDENTITY_HEADERS } from '../../../../services/core/registry/index.js';

// The table of docs/identity-headers.md and the code are one list: every header named in the
// table's first column is built in, and every built-in header is in the table.
const DOC = readFileSync(fileURLToPath(new URL('../../../../docs/identity-headers.md', import.meta.url)), 'utf8');
const DOC_TABLE = DOC.split('\n')
  .filter((line) => /^\| `/.test(line))
  .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));

describe('the built-in identity headers', () => {
  it.each(DOC_TABLE)('include %s from docs/identity-headers.md', (name) => {
    expect(BUILTIN_IDENTITY_HEADER_NAMES.has(name.toLowerCase())).toBe(true);
  });

  it('are all listed in docs/identity-headers.md', () => {
    expect(DOC_TABLE.length).toBeGreaterThanOrEqual(20);
    expect(new Set(DOC_TABLE.map((n) => n.toLowerCase()))).toEqual(BUILTIN_IDENTITY_HEADER_NAMES);
  });

  it('are lower-case header tokens, each listed once, each with a source', () => {
    const names = BUILTIN_IDENTITY_HEADERS.map((h) => h.name);
    expect(new Set(names).size).toBe(names.length);
    for (const header of BUILTIN_IDENTITY_HEADERS) {
      expect(header.name).toMatch(/^[a-z0-9-]+$/);
      expect(header.source.length).toBeGreaterThan(10);
    }
    expect(BUILTIN_IDENTITY_HEADER_NAMES.size).toBe(names.length);
  });

  it('mark the composite Elisa header and the token headers by kind', () => {
    const kind = (name: string) => BUILTIN_IDENTITY_HEADERS.find((h) => h.name === name)?.kind;
    expect([kind('x-network-info'), kind('x-uidh'), kind('x-up-calling-line-id'), kind('x-imsi')])
      .toEqual(['composite', 'token', 'number', 'imsi']);
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(BUILTIN_IDENTITY_HEADERS)).toBe(true);
    expect(Object.isFrozen(BUILTIN_IDENTITY_HEADERS[0])).toBe(true);
  });
});
