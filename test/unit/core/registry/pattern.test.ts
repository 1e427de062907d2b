import { describe, expect, it } from 'vitest';
import { parseDomainPattern, patternMatchesHost } from '../../../../services/core/registry/index.js';

describe('parseDomainPattern', () => {
  it.each([
    ['example.com', 'example.com', 'exact', 2],
    ['Example.COM.', 'example.com', 'exact', 2],
    ['*.example.com', '*.example.com', 'wildcard', 2],
    ['*.Sub.Example.com', '*.sub.example.com', 'wildcard', 3],
    ['*.bücher.example', '*.xn--bcher-kva.example', 'wildcard', 2],
    ['*.xn--bcher-kva.example', '*.xn--bcher-kva.example', 'wildcard', 2],
    ['localhost', 'localhost', 'exact', 1],
    ['co.uk', 'co.uk', 'exact', 2],
    ['10.0.0.1', '10.0.0.1', 'ip', 1],
    ['2001:DB8::1', '2001:db8::1', 'ip', 1],
    ['[2001:db8::1]', '2001:db8::1', 'ip', 1],
  ])('normalises %j to %j (%s, %i labels)', (raw, pattern, kind, labels) => {
    const result = parseDomainPattern(raw);
    expect(result).toMatchObject({ ok: true, value: { pattern, kind } });
    expect(result.ok && result.value.labels.length).toBe(labels);
  });

  it.each([
    ['', '"": not a domain pattern'],
    ['*', '"*": not a domain pattern ("*" is allowed only as the whole first label, as in "*.example.com")'],
    ['*.', '"*.": not a domain pattern'],
    ['**.example.com', '"**.example.com": not a domain pattern ("*" is allowed only as the whole first label, as in "*.example.com")'],
    ['*example.com', '"*example.com": not a domain pattern ("*" is allowed only as the whole first label, as in "*.example.com")'],
    ['a.*.example.com', '"a.*.example.com": not a domain pattern ("*" is allowed only as the whole first label, as in "*.example.com")'],
    ['example.com:80', '"example.com:80": not a domain pattern (a pattern has no port)'],
    ['[2001:db8::1]:80', '"[2001:db8::1]:80": not a domain pattern (a pattern has no port)'],
    ['exa mple.com', '"exa mple.com": not a domain pattern (it contains a space or a character not allowed in a host name)'],
    ['ex%41mple.com', '"ex%41mple.com": not a domain pattern (it contains a space or a character not allowed in a host name)'],
    ['http://example.com', '"http://example.com": not a domain pattern (it contains a space or a character not allowed in a host name)'],
    ['a..example.com', '"a..example.com": not a domain pattern'],
    ['-a.example.com', '"-a.example.com": not a domain pattern (label "-a" is not letters, digits and inner hyphens)'],
    ['a!.example.com', '"a!.example.com": not a domain pattern (label "a!" is not letters, digits and inner hyphens)'],
    [`${'a'.repeat(64)}.com`, `"${'a'.repeat(64)}.com": not a domain pattern (a label is longer than 63 characters)`],
    ['*.10.0.0.1', '"*.10.0.0.1": not a domain pattern (an IP address cannot have a wildcard)'],
    ['*.2001:db8::1', '"*.2001:db8::1": not a domain pattern (an IP address cannot have a wildcard)'],
    ['10.1', '"10.1": not a domain pattern (write an IPv4 address as four decimal numbers, as in "10.0.0.1")'],
    ['010.0.0.1', '"010.0.0.1": not a domain pattern (write an IPv4 address as four decimal numbers, as in "10.0.0.1")'],
    ['1.2.3.256', '"1.2.3.256": not a domain pattern'],
    ['xn--zz.example', '"xn--zz.example": not a domain pattern'],
    ['*.com', '"*.com": a wildcard over the public suffix "com" would match every site under it; name the partner\'s own domain'],
    ['*.co.uk', '"*.co.uk": a wildcard over the public suffix "co.uk" would match every site under it; name the partner\'s own domain'],
    ['*.example', '"*.example": a wildcard over the public suffix "example" would match every site under it; name the partner\'s own domain'],
    ['*.blogspot.com', '"*.blogspot.com": a wildcard over the public suffix "blogspot.com" would match every site under it; name the partner\'s own domain'],
  ])('refuses %j with a message saying why', (raw, problem) => {
    expect(parseDomainPattern(raw)).toEqual({ ok: false, problem });
  });
});

describe('patternMatchesHost', () => {
  it.each([
    ['*.example.com', 'www.example.com', true],
    ['*.example.com', 'a.b.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'badexample.com', false],
    ['*.example.com', 'evil-example.com', false],
    ['*.example.com', 'example.com.evil.net', false],
    ['example.com', 'example.com', true],
    ['example.com', 'www.example.com', false],
    ['10.0.0.1', '10.0.0.10', false],
  ])('pattern %j against host %j gives %s', (pattern, host, expected) => {
    expect(patternMatchesHost(pattern, host)).toBe(expected);
  });
});
