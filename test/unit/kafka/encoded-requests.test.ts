// EncodedRequestsBuilder gathers small encoded batches into one: the result must be exactly
// what encoding all the requests at once gives (same keys, same bytes, same message ends).
import { describe, expect, it } from 'vitest';
import { AvroCodec } from '../../../services/avro/index.js';
import type { GatewayRequest } from '../../../services/core/types.js';
import { EncodedRequestsBuilder, encodeRequests } from '../../../services/kafka/index.js';

function request(i: number): GatewayRequest {
  return {
    ts: Date.parse('2012-01-20T00:00:00Z') + i, requestKey: `gw-${i % 3}:${i}`, gatewayId: `gw-${i % 3}`, requestId: String(i),
    msisdn: i % 4 === 0 ? null : `4477009${String(i).padStart(5, '0')}`, bearer: null, clientIp: null, method: 'GET', scheme: 'http',
    host: `www.site${i % 7}.example`, port: null, path: `/p/${'x'.repeat(i % 90)}`, query: `id=${i}`,
    headers: i % 2 === 0 ? [['x-msisdn', `4477009${i}`]] : [], status: 200, bytes: i,
  };
}

describe('EncodedRequestsBuilder', () => {
  it('gives, from parts of any size, the same keys, bytes and ends as encoding all requests at once', () => {
    const codec = new AvroCodec();
    const all = Array.from({ length: 1000 }, (_, i) => request(i));
    const builder = new EncodedRequestsBuilder(codec);
    const cuts = [0, 1, 1, 7, 300, 301, 512, 999, 1000];
    for (let c = 1; c < cuts.length; c++) builder.add(all.slice(cuts[c - 1], cuts[c]));
    expect(builder.size).toBe(1000);
    const got = builder.take();
    const want = encodeRequests(codec, all);
    expect(got.keys).toEqual(want.keys);
    expect(Buffer.compare(got.bytes, want.bytes)).toBe(0);
    expect([...got.ends]).toEqual([...want.ends]);
    // Its own memory, whole: the buffer can be transferred to another thread.
    expect(got.bytes.byteOffset).toBe(0);
    expect(got.bytes.buffer.byteLength).toBe(got.bytes.length);
  });

  it('starts afresh after take: the next batch holds only what was added since', () => {
    const codec = new AvroCodec();
    const builder = new EncodedRequestsBuilder(codec);
    builder.add([request(1), request(2)]);
    builder.take();
    expect(builder.size).toBe(0);
    builder.add([request(3)]);
    builder.add([request(4), request(5)]);
    const next = builder.take();
    const want = encodeRequests(codec, [request(3), request(4), request(5)]);
    expect(Buffer.compare(next.bytes, want.bytes)).toBe(0);
    expect([...next.ends]).toEqual([...want.ends]);
    expect(next.keys).toEqual(want.keys);
  });
});
