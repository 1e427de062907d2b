// Input never makes the detection core throw (issue 7, item 1): values that libphonenumber
// calls "possible" but that E.164 cannot hold, lone surrogates, control characters, any
// header value or msisdn string. Each request is judged and protected as a scan does it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detect } from '../../../../services/core/detect/index.js';
import { normalizeNumber } from '../../../../services/core/detect/numbers.js';
import { buildSnapshot, parseRegistry } from '../../../../services/core/registry/index.js';
import type { GatewayRequest } from '../../../../services/core/types.js';
import { Protector } from '../../../../services/store/index.js';

const snapshot = buildSnapshot(parseRegistry(`
version: "1"
region: GB
partners:
  - {id: ageverify, name: AgeVerify, domains: ["*.ageverify.example"], identifiers: [x-msisdn]}
`, 'test'));
const protector = new Protector({ hashKey: Buffer.alloc(32, 1), encKey: Buffer.alloc(32, 2) });

function request(msisdn: string | null, headers: Array<[string, string]>, over: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    ts: Date.UTC(2012, 0, 20), requestKey: 'gw:1', gatewayId: 'gw', requestId: '1', msisdn, bearer: null, clientIp: null,
    method: 'GET', scheme: 'http', host: 'www.example.com', port: null, path: '/', query: '', headers, status: 200, bytes: 1, ...over,
  };
}

function judgeAndProtect(r: GatewayRequest): void {
  const d = detect(r, snapshot);
  if (d !== null) protector.toStored(d);
}

const TOO_LONG = ['+82 71237700900445', '8271237700900445', '+8271237700900445', '008271237700900445'];

describe('a number libphonenumber calls possible but E.164 cannot hold', () => {
  it.each(TOO_LONG)('%s is not a number', (raw) => {
    expect(normalizeNumber(raw, 'GB')).toBeNull();
  });

  it.each(TOO_LONG)('%s in an identity header is a token disclosure with no subscriber', (raw) => {
    const d = detect(request(null, [['x-msisdn', raw]]), snapshot);
    expect(d).not.toBeNull();
    expect(d!.subscriber).toBeNull();
    expect(d!.channels).toEqual(['header:x-msisdn']);
    expect(() => protector.toStored(d!)).not.toThrow();
  });

  it.each(TOO_LONG)('%s as the session msisdn does not stop the request being judged', (raw) => {
    expect(detect(request(raw, [['user-agent', `x ${raw}`]], { query: `n=${raw}` }), snapshot)).toBeNull();
    const d = detect(request(raw, [['x-msisdn', '447700900123']]), snapshot);
    expect(d!.subscriber).toBe('+447700900123');
  });
});

describe('the core never throws on input', () => {
  const digitsy = fc.stringMatching(/^[+0-9 ().-]{0,24}$/);
  const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), digitsy, fc.string({ unit: 'grapheme', maxLength: 30 }));
  const name = fc.oneof(fc.constantFrom('x-msisdn', 'x-up-calling-line-id', 'x-network-info', 'x-uidh', 'referer', 'cookie', 'x-imsi'), fc.string({ maxLength: 12 }));

  it('over arbitrary header values and msisdn strings', () => {
    fc.assert(
      fc.property(fc.option(anyText, { nil: null }), fc.array(fc.tuple(name, anyText), { maxLength: 6 }), anyText, anyText, anyText,
        (msisdn, headers, path, query, host) => {
          judgeAndProtect(request(msisdn, headers, { path, query }));
          judgeAndProtect(request(msisdn, headers, { host }));
        }),
      { numRuns: 2000 },
    );
  }, 60_000);

  it('with a lone surrogate in a host that does not normalise', () => {
    expect(() => judgeAndProtect(request('447700900123', [['x-msisdn', '447700900123']], { host: 'a\uD800 b' }))).not.toThrow();
  });
});
