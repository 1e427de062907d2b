import { describe, expect, it } from 'vitest';
import { detect, disclosureId, judge } from '../../../../services/core/detect/index.js';
import { buildSnapshot, parseRegistry } from '../../../../services/core/registry/index.js';
import type { GatewayRequest, PartnerEntry, PartnerMatch } from '../../../../services/core/types.js';

const REGISTRY = `
version: "2012-01-25.1"
region: GB
identity_headers: [x-o2-subscriber]
partners:
  - id: ageverify
    name: AgeVerify Ltd
    purposes: [age_verification]
    domains: ["*.ageverify.example"]
    identifiers: [x-up-calling-line-id, x-msisdn]
    valid_from: "2011-06-01T00:00:00Z"
  - id: billing
    name: Billing Co
    purposes: [carrier_billing]
    domains: ["pay.billing.example"]
    identifiers: [x-msisdn, url]
    valid_from: "2011-01-01T00:00:00Z"
    valid_to: "2012-01-15T00:00:00Z"
  - id: tokenonly
    name: Token Only Ads
    purposes: [customer_recognition]
    domains: ["*.tokenads.example"]
    identifiers: [x-acr]
  - id: books
    name: Bücher GmbH
    purposes: [age_verification]
    domains: ["*.bücher.example"]
    identifiers: [x-msisdn]
  - id: ipbilling
    name: IP Billing
    purposes: [carrier_billing]
    domains: ["192.0.2.10"]
    identifiers: [x-msisdn]
  - id: broad
    name: Broad Group
    purposes: [analytics]
    domains: ["*.group.example"]
    identifiers: [x-acr]
  - id: narrow
    name: Narrow Shop
    purposes: [carrier_billing]
    domains: ["shop.group.example"]
    identifiers: [x-msisdn]
    valid_to: "2012-01-01T00:00:00Z"
`;

const snapshot = buildSnapshot(parseRegistry(REGISTRY, 'test'));
const T = Date.parse('2012-01-20T09:31:02.123Z');

function request(over: Partial<GatewayRequest>): GatewayRequest {
  return {
    ts: T, requestKey: 'gw-lon-01:1', gatewayId: 'gw-lon-01', requestId: '1', msisdn: '447700900123',
    bearer: '3g', clientIp: '10.12.0.5', method: 'GET', scheme: 'http', host: 'www.example.com', port: null,
    path: '/news', query: 'id=1', status: 200, bytes: 512,
    ...over,
    headers: over.headers ?? [['host', over.host ?? 'www.example.com'], ['user-agent', 'Mozilla/5.0 (Linux; Android 4.0.4; GT-I9300 Build/IMM76D) AppleWebKit/534.30']],
  };
}

const UA: [string, string] = ['user-agent', 'Mozilla/5.0 (Linux; U; Android 2.3.6; en-gb) AppleWebKit/533.1 Version/4.0 Mobile Safari/533.1'];

describe('detect: which requests disclose, through which channels', () => {
  it.each([
    ['an identity header to an unknown site', { headers: [UA, ['x-msisdn', '447700900123']] }, ['header:x-msisdn']],
    ['the O2 header X-UP-Calling-Line-ID', { headers: [['x-up-calling-line-id', '447700900123']] }, ['header:x-up-calling-line-id']],
    ['a header the registry adds to the identity list', { headers: [['x-o2-subscriber', 'abc']] }, ['header:x-o2-subscriber']],
    ['the number with + in an unlisted header', { headers: [['x-debug', '+447700900123']] }, ['header:x-debug']],
    ['the number split by spaces and dashes', { headers: [['x-debug', '+44 7700-900 123']] }, ['header:x-debug']],
    ['the national spelling with a leading 0', { headers: [['x-sub', '07700 900123']] }, ['header:x-sub']],
    ['the national number without prefix (msisdn-no-cc)', { headers: [['x-cust', 'id=7700900123;']] }, ['header:x-cust']],
    ['a composite value', { headers: [['x-network-info', 'GPRS,,447700900123,unsecured']] }, ['header:x-network-info']],
    ['a composite value in an unlisted header', { headers: [['x-net', 'GPRS,,447700900123,unsecured']] }, ['header:x-net']],
    ['a cookie holding the O2 header', { headers: [['cookie', 'sid=abc; x-up-calling-line-id=447700900123']] }, ['header:cookie']],
    ['the number in the query', { query: 'msisdn=447700900123&x=1' }, ['url']],
    ['the national number in the path', { path: '/u/07700900123/profile', query: '' }, ['url']],
    ['a percent-encoded number in the query', { query: 'n=%2B44%207700%20900123' }, ['url']],
    ['the number in the Referer', { headers: [['referer', 'http://m.ageverify.example/ok?cli=447700900123']] }, ['referer']],
    ['several channels at once, sorted', { query: 'm=447700900123', headers: [['x-msisdn', '447700900123'], ['referer', 'http://a.example/?447700900123']] }, ['header:x-msisdn', 'referer', 'url']],
    ['a form-encoded space in the query', { query: 'tel=07700+900123' }, ['url']],
    ['a %20 next to a malformed escape in the query', { query: 'tel=07700%20900123&p=100%' }, ['url']],
    ['a %2B-encoded plus in the query', { query: 'n=%2B447700900123' }, ['url']],
    ['an encoded number in the Referer', { headers: [['referer', 'http://a.example/?t=07700%20900123']] }, ['referer']],
    ['a form-encoded number in the Referer', { headers: [['referer', 'http://a.example/?t=07700+900123']] }, ['referer']],
    ['an encoded number in a cookie', { headers: [['cookie', 'm=07700%20900123']] }, ['header:cookie']],
    ['the number in the host, which is part of the URL', { host: '447700900123.example.com', headers: [['host', '447700900123.example.com']] }, ['url']],
    ['the same header twice counts once', { headers: [['x-msisdn', '447700900123'], ['x-msisdn', '447700900123']] }, ['header:x-msisdn']],
  ] as const)('finds %s', (_title, over, channels) => {
    const d = detect(request(over as Partial<GatewayRequest>), snapshot);
    expect(d).not.toBeNull();
    expect(d!.channels).toEqual(channels);
    expect(d!.subscriber).toBe('+447700900123');
  });

  it.each([
    ['an ordinary request', {}],
    ['a long digit string that merely contains the number', { headers: [['x-trace', '99447700900123991']] }],
    ['the number glued to more digits in the query', { query: 'ts=4477009001230' }],
    ['a different subscriber\'s number', { headers: [['x-debug', '447700900999']] }],
    ['the number in the Host header only', { headers: [['host', '447700900123.example.com']] }],
    ['an identity header with an empty value', { headers: [['x-msisdn', '  ']] }],
    ['an identity header with a placeholder dash', { headers: [['x-msisdn', '-']] }],
    ['an identity header saying unknown', { headers: [['x-up-calling-line-id', 'Unknown']] }],
    ['an identity header of ten spaces', { headers: [['x-msisdn', ' '.repeat(10)]] }],
    ['an identity header saying unknown between spaces', { headers: [['x-msisdn', '   unknown   ']] }],
    ['a Wi-Fi session with the number in the URL (no session number to look for)', { msisdn: null, query: 'n=447700900123' }],
  ] as const)('does not flag %s', (_title, over) => {
    expect(detect(request(over as Partial<GatewayRequest>), snapshot)).toBeNull();
  });

  it('takes the subscriber from the identity header when the session has no number', () => {
    const d = detect(request({ msisdn: null, headers: [['x-msisdn', '+44 7700 900123'], ['x-other', '07700900123']] }), snapshot);
    expect(d!.subscriber).toBe('+447700900123');
    expect(d!.channels).toEqual(['header:x-msisdn', 'header:x-other']);
  });

  it('records a token header on a Wi-Fi session with no subscriber', () => {
    const d = detect(request({ msisdn: null, headers: [['x-acr', 'eyJhbGciOi-token-1234567890123']] }), snapshot);
    expect(d!.subscriber).toBeNull();
    expect(d!.channels).toEqual(['header:x-acr']);
  });

  it('does not take an IMSI for a phone number', () => {
    const d = detect(request({ msisdn: null, headers: [['x-imsi', '234100123456789']] }), snapshot);
    expect(d!.subscriber).toBeNull();
  });

  it('normalises a national session number with the registry region', () => {
    const d = detect(request({ msisdn: '07700900123', headers: [['x-msisdn', '447700900123']] }), snapshot);
    expect(d!.subscriber).toBe('+447700900123');
  });

  it.each([
    ['tel=07700+900123', 'tel=+4477009****23'],
    ['tel=07700%20900123&p=100%', 'tel=+4477009****23&p=100%'],
    ['n=%2B447700900123', 'n=+4477009****23'],
    ['a=447700900123&b=07700%20900123', 'a=+4477009****23&b=+4477009****23'],
  ])('stores the query %j as %j, with no spelling of the number left', (query, stored) => {
    const d = detect(request({ query }), snapshot)!;
    expect(d.queryMasked).toBe(stored);
  });

  it('masks another person\'s number in the stored query and path too, and leaves short ids alone', () => {
    const d = detect(request({ path: '/call/07700900999', query: 'to=447700900555&from=447700900123&id=12345', headers: [['x-msisdn', '447700900123']] }), snapshot)!;
    expect(d.channels).toEqual(['header:x-msisdn', 'url']);
    expect(d.queryMasked).toBe('to=+4477009****55&from=+4477009****23&id=12345');
    expect(d.path).toBe('/call/+4477009****99');
  });

  it('masks the number in the stored query and path', () => {
    const d = detect(request({ path: '/u/07700900123', query: 'a=1&msisdn=447700900123&b=2' }), snapshot);
    expect(d!.queryMasked).not.toContain('447700900123');
    expect(d!.queryMasked).toMatch(/^a=1&msisdn=.*\*\*\*\*.*&b=2$/);
    expect(d!.path).not.toContain('07700900123');
  });

  it('gives the same id to the same request and different ids to different requests', () => {
    const a = detect(request({ headers: [['x-msisdn', '447700900123']] }), snapshot)!;
    const b = detect(request({ headers: [['x-msisdn', '447700900123']] }), snapshot)!;
    const c = detect(request({ requestKey: 'gw-lon-01:2', headers: [['x-msisdn', '447700900123']] }), snapshot)!;
    expect(a.id).toBe(b.id);
    expect(a.id).not.toBe(c.id);
    expect(a.id).toBe(disclosureId('gw-lon-01:1', T));
  });

  it('keeps two requests apart that share a request id but not a time (gateway counters restart)', () => {
    const a = detect(request({ headers: [['x-msisdn', '447700900123']] }), snapshot)!;
    const b = detect(request({ ts: T + 86_400_000, headers: [['x-msisdn', '447700900123']] }), snapshot)!;
    expect(a.id).not.toBe(b.id);
  });
});

describe('detect: verdicts, by recipient host and time', () => {
  const xmsisdn: Array<[string, string]> = [['x-msisdn', '447700900123']];
  it.each([
    ['a partner allowed the header', 'm.ageverify.example', xmsisdn, T, 'authorized', 'ageverify'],
    ['a deep host under a wildcard', 'a.b.c.ageverify.example', xmsisdn, T, 'authorized', 'ageverify'],
    ['an uppercase host with a port and a trailing dot', 'WWW.AgeVerify.Example.', xmsisdn, T, 'authorized', 'ageverify'],
    ['the bare apex of a wildcard', 'ageverify.example', xmsisdn, T, 'unauthorized_recipient', null],
    ['a look-alike with a dash', 'evil-ageverify.example', xmsisdn, T, 'unauthorized_recipient', null],
    ['a look-alike glued to the name', 'www.evilageverify.example', xmsisdn, T, 'unauthorized_recipient', null],
    ['a partner name inside another domain', 'www.ageverify.example.evil.net', xmsisdn, T, 'unauthorized_recipient', null],
    ['a partner receiving a header it may not', 'ads.tokenads.example', xmsisdn, T, 'identifier_not_allowed', 'tokenonly'],
    ['a partner receiving its token header', 'ads.tokenads.example', [['x-acr', 'tok-abc']], T, 'authorized', 'tokenonly'],
    ['a partner receiving the number in the URL when only the header is allowed', 'm.ageverify.example', [['x-msisdn', '447700900123'], ['x-debug', '447700900123']], T, 'identifier_not_allowed', 'ageverify'],
    ['a partner after its contract ended', 'pay.billing.example', xmsisdn, T, 'partner_inactive', 'billing'],
    ['a partner before its contract ended', 'pay.billing.example', xmsisdn, Date.parse('2012-01-14T23:59:59.999Z'), 'authorized', 'billing'],
    ['a partner exactly when its contract ends (exclusive)', 'pay.billing.example', xmsisdn, Date.parse('2012-01-15T00:00:00Z'), 'partner_inactive', 'billing'],
    ['a partner exactly when its contract starts (inclusive)', 'm.ageverify.example', xmsisdn, Date.parse('2011-06-01T00:00:00Z'), 'authorized', 'ageverify'],
    ['a partner before its contract starts', 'm.ageverify.example', xmsisdn, Date.parse('2011-05-31T23:59:59.999Z'), 'partner_inactive', 'ageverify'],
    ['an IDN host in Unicode', 'www.bücher.example', xmsisdn, T, 'authorized', 'books'],
    ['an IDN host in punycode', 'www.xn--bcher-kva.example', xmsisdn, T, 'authorized', 'books'],
    ['an IP literal partner', '192.0.2.10', xmsisdn, T, 'authorized', 'ipbilling'],
    ['another IP in the same range', '192.0.2.100', xmsisdn, T, 'unauthorized_recipient', null],
    ['a host where the specific partner has expired and the broad one forbids the header', 'shop.group.example', xmsisdn, T, 'identifier_not_allowed', 'broad'],
    ['a host where the specific partner was valid and allows it', 'shop.group.example', xmsisdn, Date.parse('2011-12-31T00:00:00Z'), 'authorized', 'narrow'],
  ] as const)('judges %s', (_title, host, headers, ts, verdict, partner) => {
    const d = detect(request({ host, ts, headers: headers as unknown as Array<[string, string]> }), snapshot);
    expect(d).not.toBeNull();
    expect(d!.verdict).toBe(verdict);
    expect(d!.partnerId).toBe(partner);
  });

  it('never looks up a host that is not a host name among partners', () => {
    const d = detect(request({ host: 'evil.com\\.m.ageverify.example', headers: [['x-msisdn', '447700900123']] }), snapshot)!;
    expect(d.verdict).toBe('unauthorized_recipient');
    expect(d.host).toBe('invalid:evil.com%5C.m.ageverify.example');
  });

  it('writes hosts as lower-case ASCII, IDNs in punycode, and groups them by registrable domain', () => {
    const cases: Array<[string, string, string]> = [
      ['WWW.O2.CO.UK:8080', 'www.o2.co.uk', 'o2.co.uk'],
      ['www.bücher.example', 'www.xn--bcher-kva.example', 'xn--bcher-kva.example'],
      ['a.b.example', 'a.b.example', 'b.example'],
      ['10.0.0.1', '10.0.0.1', '10.0.0.1'],
      ['foo.blogspot.com', 'foo.blogspot.com', 'foo.blogspot.com'],
    ];
    for (const [raw, host, site] of cases) {
      const d = detect(request({ host: raw, headers: [['x-msisdn', '447700900123']] }), snapshot)!;
      expect([d.host, d.site]).toEqual([host, site]);
    }
  });

  it('names the most specific partner when none of the matching ones is valid', () => {
    const entry = (id: string, validTo: number): PartnerEntry => ({
      id, name: id, purposes: [], domains: [], identifiers: ['x-msisdn'], validFrom: null, validTo,
    });
    const matches: PartnerMatch[] = [
      { entry: entry('narrow', T - 1), pattern: 'shop.group.example', specificity: 3 },
      { entry: entry('broad', T), pattern: '*.group.example', specificity: 2 },
    ];
    expect(judge(matches, ['header:x-msisdn'], T)).toEqual({ verdict: 'partner_inactive', partnerId: 'narrow' });
    expect(judge(matches, ['header:x-msisdn'], T - 1)).toEqual({ verdict: 'authorized', partnerId: 'broad' });
    expect(judge(matches, ['url'], T - 2)).toEqual({ verdict: 'identifier_not_allowed', partnerId: 'narrow' });
    expect(judge([], ['url'], T)).toEqual({ verdict: 'unauthorized_recipient', partnerId: null });
  });

  it('stores the registry version with every verdict', () => {
    expect(detect(request({ headers: [['x-msisdn', '447700900123']] }), snapshot)!.registryVersion).toBe('2012-01-25.1');
  });
});
