// Gateway requests as Kafka message values, encoded in one buffer per batch: what the shipper's
// reading thread builds and hands to the producer. Free of kafkajs (only its Message type), so
// that the reading thread does not load it.
import type { Message } from 'kafkajs';
import { toAvroGatewayRequest, type AvroCodec, type AvroGatewayRequest } from '../avro/index.js';
import type { GatewayRequest } from '../core/types.js';

/** A batch of requests encoded in one buffer (AvroCodec.encodeAll) with their message keys: what a shipper thread hands over. */
export interface EncodedRequests {
  keys: Array<string | null>;
  bytes: Buffer;
  ends: Uint32Array;
}

export function encodeRequests(codec: AvroCodec, requests: readonly GatewayRequest[]): EncodedRequests {
  const keys: Array<string | null> = new Array(requests.length);
  const avro: AvroGatewayRequest[] = new Array(requests.length);
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i] as GatewayRequest;
    keys[i] = r.msisdn ?? r.gatewayId ?? null;
    avro[i] = toAvroGatewayRequest(r);
  }
  return { keys, ...codec.encodeAll('GatewayRequest', avro) };
}

/**
 * Gathers the encodings of many small batches of requests into one EncodedRequests. A reader
 * that parses a few hundred lines at a time and encodes them at once lets those requests die
 * young (one scavenge) instead of holding thousands until a big batch is full, when they are
 * copied and promoted; only the bytes are kept (bench/stream.ts measures the difference).
 */
export class EncodedRequestsBuilder {
  private parts: EncodedRequests[] = [];
  private count = 0;
  private byteLength = 0;

  constructor(private readonly codec: AvroCodec) {}

  /** Requests encoded so far and not yet taken. */
  get size(): number {
    return this.count;
  }

  add(requests: readonly GatewayRequest[]): void {
    if (requests.length === 0) return;
    this.addEncoded(encodeRequests(this.codec, requests));
  }

  /** Requests encoded elsewhere (the shipper's NDJSON transcoder), in the same form; `bytes` may be a view, copied at take. */
  addEncoded(part: EncodedRequests): void {
    if (part.ends.length === 0) return;
    this.parts.push(part);
    this.count += part.ends.length;
    this.byteLength += part.bytes.length;
  }

  /** Everything added since the last take, in order, in one buffer of its own (transferable). */
  take(): EncodedRequests {
    const parts = this.parts;
    const only = parts.length === 1 ? parts[0] : undefined;
    let out: EncodedRequests;
    // A part may be a view of a bigger buffer (NdjsonAvroWriter's): only a whole buffer is handed on as it is.
    if (only !== undefined && only.bytes.byteOffset === 0 && only.bytes.length === only.bytes.buffer.byteLength) {
      out = only;
    } else {
      const keys: Array<string | null> = new Array(this.count);
      const bytes = Buffer.allocUnsafeSlow(this.byteLength);
      const ends = new Uint32Array(this.count);
      let at = 0;
      let offset = 0;
      for (const part of parts) {
        part.bytes.copy(bytes, offset);
        for (let i = 0; i < part.ends.length; i++) {
          keys[at] = part.keys[i] ?? null;
          ends[at++] = offset + (part.ends[i] as number);
        }
        offset += part.bytes.length;
      }
      out = { keys, bytes, ends };
    }
    this.parts = [];
    this.count = 0;
    this.byteLength = 0;
    return out;
  }
}

/** Messages over an encoded batch: each value a view of `bytes`, nothing copied. */
export function encodedMessages(keys: ReadonlyArray<string | null>, bytes: Buffer, ends: Uint32Array): Message[] {
  const out: Message[] = new Array(keys.length);
  let start = 0;
  for (let i = 0; i < keys.length; i++) {
    const end = ends[i] as number;
    out[i] = { key: keys[i] ?? null, value: bytes.subarray(start, end) };
    start = end;
  }
  return out;
}

