import { describe, expect, it } from 'vitest';
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
