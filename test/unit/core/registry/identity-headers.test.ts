import { describe, expect, it } from 'vitest';
import { BUILTIN_IDENTITY_HEADER_NAMES, BUILTIN_IDENTITY_HEADERS } from '../../../../services/core/registry/index.js';

// Every header of DESIGN.md's identity header table must be built in.
const DESIGN_TABLE = [
  'X-UP-Calling-Line-ID', 'X-MSISDN', 'MSISDN', 'X-Wap-MSISDN', 'X-Nokia-MSISDN', 'X-Network-Info', 'X-H3G-MSISDN',
  'X-H3G-PARTY-ID', 'X-WAP-Network-Client-MSISDN', 'X-UP-SubNo', 'X-UIDH', 'X-ACR', 'X-VF-ACR', 'X-IMSI', 'X-Nokia-IMSI',
  'X-UP-3GPP-IMEISV', 'X-Jinny-CID', 'X-Hts-CLID', 'X-MDN', 'X-FH-MSISDN', 'X-MSP-MSISDN', 'X-Orange-ID',
];

describe('the built-in identity headers', () => {
  it.each(DESIGN_TABLE)('include %s from the design table', (name) => {
    expect(BUILTIN_IDENTITY_HEADER_NAMES.has(name.toLowerCase())).toBe(true);
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
