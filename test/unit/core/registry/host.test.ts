import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hostInternals } from '../../../../services/core/registry/host.js';
import { isIpLiteral, normalizeHost } from '../../../../services/core/registry/index.js';

describe('normalizeHost', () => {
  it.each([
    ['www.example.com', 'www.example.com'],
    ['WWW.Example.COM', 'www.example.com'],
    ['www.example.com.', 'www.example.com'],
    ['www.example.com:8080', 'www.example.com'],
    ['WWW.EXAMPLE.COM.:80', 'www.example.com'],
    ['www.example.com:', 'www.example.com'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['BÜCHER.example', 'xn--bcher-kva.example'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['XN--BCHER-KVA.example', 'xn--bcher-kva.example'],
    ['shop.bücher.example:443', 'shop.xn--bcher-kva.example'],
    ['10.0.0.1', '10.0.0.1'],
    ['10.0.0.1:8080', '10.0.0.1'],
    ['[2001:DB8:0:0:0:0:0:1]', '2001:db8::1'],
    ['[2001:db8::1]:8080', '2001:db8::1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['::1', '::1'],
    ['a_b.example.com', 'a_b.example.com'],
    ['localhost', 'localhost'],
  ])('turns %j into %j', (host, expected) => {
    expect(normalizeHost(host)).toBe(expected);
  });

  it.each([
    [''],
    ['.'],
    ['a..b.example'],
    ['.example.com'],
    ['example.com..'],
    ['exa mple.com'],
    ['example.com:http'],
    ['example.com:123456'],
    ['[2001:db8::1'],
    ['[2001:db8::1]x'],
    ['[example.com]'],
    ['xn--zz.example'],
    ['1.2.3.256'],
    ['user@example.com'],
    ['example.com/path'],
    ['\u{FE37}'], // NFKC maps it to `{`, which is no host character
    ['a\u{FE37}b.example'],
    // Not host names, though LDH characters only: the registry refuses the same labels.
    ['-'],
    ['_'],
    ['--1'],
    ['a.-'],
    ['-a.example'],
    ['a-.example'],
    ['a.b_-'],
    [`${'a'.repeat(64)}.example`],
    ['WWW.-.EXAMPLE'],
  ])('refuses %j as not a host', (host) => {
    expect(normalizeHost(host)).toBeNull();
  });

  it('gives the same answer for a cached host as for a fresh one', () => {
    expect(normalizeHost('Mixed.Example.ORG')).toBe('mixed.example.org');
    expect(normalizeHost('Mixed.Example.ORG')).toBe('mixed.example.org');
  });
});

describe('isIpLiteral', () => {
  it.each([
    ['10.0.0.1', true],
    ['2001:db8::1', true],
    ['example.com', false],
    ['10.0.0.1.example', false],
  ])('says %j is an IP literal: %s', (host, expected) => {
    expect(isIpLiteral(host)).toBe(expected);
  });
});

// What the hot path's one-pass test must equal: the regexes it was written from.
const PLAIN_NAME = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
const NUMERIC_LABEL = /^(?:[0-9]+|0x[0-9a-f]*)$/;

function isPlainNameByPattern(host: string): boolean {
  if (!PLAIN_NAME.test(host) || host.includes('xn--') || !/[a-z0-9]/.test(host)) return false;
  return !NUMERIC_LABEL.test(host.slice(host.lastIndexOf('.') + 1));
}

describe('the plain-name test of the hot path', () => {
  it.each([
    ['www.example.com'], ['a'], ['_'], ['-'], ['a-'], ['-a'], ['a.-b'], ['a..b'], ['.a'], ['a.'], ['xn--bcher-kva.example'],
    ['1.2.3.4'], ['a.0x7f'], ['a.0x'], ['a.0xg'], ['a.0x7F'], ['a.12'], ['a.12b'], ['a_b.example'], ['A.example'], ['a b'],
    [`${'a'.repeat(63)}.example`], [`${'a'.repeat(64)}.example`], ['ü.example'], [''], ['__'], ['_.-'], ['0'], ['0x'],
  ])('judges %j as the regexes do', (host) => {
    expect(hostInternals.isPlainName(host)).toBe(isPlainNameByPattern(host));
  });

  it('judges any string over the characters of host names as the regexes do', () => {
    const label = fc.stringMatching(/^[a-z0-9_xX.-]{0,70}$/);
    fc.assert(fc.property(fc.oneof(label, fc.array(label, { maxLength: 4 }).map((ls) => ls.join('.')), fc.string()), (host) => {
      expect(hostInternals.isPlainName(host)).toBe(isPlainNameByPattern(host));
    }), { numRuns: 20_000 });
  });
});
