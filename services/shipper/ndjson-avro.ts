// NDJSON gateway lines straight into Avro GatewayRequest bytes, for the shipper's reading
// thread: the line is parsed by JSON.parse (native, the cheapest way to read JSON here) and
// its Avro single-object message written from that object, without the GatewayRequest, the
// Avro record or avsc's per-field dispatch (docs/benchmarks.md, "Ship: NDJSON written straight
// to Avro").
//
// Exactness comes first: only the plain shape is written here (strings, integers and null,
// `headers` an object of strings, an absolute `url`); anything else — and every line this is
// not sure of — is read by parseNdjsonLine and encoded by the codec, as before. The field rules
// are parseNdjsonLine's own (the README's "Log formats"), through the same functions where
// there is one; a test checks that both ways give the same bytes on every line shape of the
// parse tests.
import type { AvroCodec } from '../avro/index.js';
import { toAvroGatewayRequest } from '../avro/index.js';
// The module, not the folder's index: the same primitives, without what the reading thread does not run.
import { stringBytes, writeLong, writeNullableLong, writeNullableString, writeString } from '../avro/binary-writer.js';
import { COUNT_MAX, STATUS_MAX } from '../core/parse/counts.js';
import { lowerHeaderName } from '../core/parse/headers.js';
import { stripLineEnd } from '../core/parse/line-text.js';
import { HEADER_TOKEN, parseNdjsonLine } from '../core/parse/ndjson.js';
import { requestKeyOf } from '../core/parse/request-key.js';
import { parseTarget, splitPathQuery } from '../core/parse/target.js';
import { parseIsoDateTime } from '../core/parse/time.js';
import type { ParseResult } from '../core/types.js';
import type { EncodedRequests } from '../kafka/encoded.js';

/** What a line that is not a request gives: the reader records it as parseNdjsonLine said. */
export type NotARequest = Exclude<ParseResult, { ok: true }>;

/** Header names and origins remembered with their Avro bytes; cleared when full, so made-up ones cannot grow memory. */
const NAME_CACHE_LIMIT = 4096;

const HEADER_BYTES = 10;
/** The writer's buffer: requests are written into it until it is full, then into a new one. */
const BUFFER_BYTES = 1024 * 1024;

export class NdjsonAvroWriter {
  private buf = Buffer.allocUnsafe(BUFFER_BYTES);
  /** Where the requests not yet taken start in `buf`: what was taken before is still viewed by its taker. */
  private partStart = 0;
  private pos = 0;
  /** Ends of the requests not yet taken, from partStart. */
  private ends: number[] = [];
  private keys: Array<string | null> = [];
  private readonly header: Buffer;
  private readonly headerNameBytes: Buffer[] = [];
  private readonly headerValues: string[] = [];
  /** A header name as logged → its lower-cased Avro string bytes (length and UTF-8), or null when it is not an HTTP token. */
  private readonly nameBytes = new Map<string, Buffer | null>();
  /** An origin as logged → its scheme, host and port as Avro bytes, or null (originOf). */
  private readonly originBytes = new Map<string, Buffer | null>();
  /** Lines written here (the rest by parseNdjsonLine and the codec): for tests and profiles. */
  transcoded = 0;

  constructor(private readonly codec: AvroCodec) {
    this.header = Buffer.from(`c301${codec.fingerprint('GatewayRequest')}`, 'hex');
  }

  /** Requests written since the last take. */
  get size(): number {
    return this.ends.length;
  }

  /**
   * Writes the line's request, when it is one, and returns null; otherwise returns what
   * parseNdjsonLine made of it (a reject or a skip), for the reader to record.
   */
  take(line: string): NotARequest | null {
    const text = stripLineEnd(line);
    this.reserve(6 * text.length + 512);
    const at = this.pos;
    if (this.write(text)) {
      this.transcoded++;
      return null;
    }
    this.pos = at;
    const result = parseNdjsonLine(text);
    if (result.ok !== true) return result;
    const r = result.request;
    const bytes = this.codec.encode('GatewayRequest', toAvroGatewayRequest(r));
    this.reserve(bytes.length);
    bytes.copy(this.buf, this.pos);
    this.pos += bytes.length;
    this.ends.push(this.pos - this.partStart);
    this.keys.push(r.msisdn ?? r.gatewayId ?? null);
    return null;
  }

  /**
   * The requests written since the last take, as encodeRequests gives them but with `bytes` a
   * view of this writer's buffer, not copied (EncodedRequestsBuilder copies the views of a
   * ship batch once, into the buffer it hands over). The view stays valid: later requests are
   * written after it, or in a new buffer.
   */
  takeEncoded(): EncodedRequests {
    const out = { keys: this.keys, bytes: this.buf.subarray(this.partStart, this.pos), ends: Uint32Array.from(this.ends) };
    this.partStart = this.pos;
    this.ends = [];
    this.keys = [];
    return out;
  }

  /** Room for `bytes` more at `pos`: else a new buffer, with the requests not yet taken moved to its start. */
  private reserve(bytes: number): void {
    if (this.buf.length - this.pos >= bytes) return;
    const kept = this.pos - this.partStart;
    const next = Buffer.allocUnsafe(Math.max(BUFFER_BYTES, 2 * (kept + bytes)));
    this.buf.copy(next, 0, this.partStart, this.pos);
    this.buf = next;
    this.partStart = 0;
    this.pos = kept;
  }

  // --- parseNdjsonLine's field rules on JSON.parse's object, then the GatewayRequest's Avro bytes. ---

  /** False when the line is one left to parseNdjsonLine (nothing is kept then). */
  private write(text: string): boolean {
    // A \u escape may make a lone surrogate, which avsc writes otherwise than Buffer does: left to it.
    if (text.charCodeAt(0) !== 123 /* { */ || text.includes('\\u')) return false;
    let o: Json;
    try {
      o = JSON.parse(text) as Json;
    } catch {
      return false;
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return false;
    const tsText = o.ts;
    const url = o.url;
    if (typeof tsText !== 'string' || typeof url !== 'string' || url.length === 0) return false;
    const ts = parseIsoDateTime(tsText);
    if (ts === null || ts < 0) return false;
    // The origin (`http://host:port`) is read once per distinct origin: its scheme, host and
    // port are written from the bytes kept for it, the rest of the url split here.
    const sep = url.indexOf('://');
    if (sep <= 0) return false;
    let originEnd = url.length;
    for (let i = sep + 3; i < url.length; i++) {
      const c = url.charCodeAt(i);
      if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) {
        originEnd = i;
        break;
      }
    }
    const origin = this.originOf(originEnd === url.length ? url : url.slice(0, originEnd));
    if (origin === null) return false;
    const pathQuery = splitPathQuery(originEnd === url.length ? '' : url.slice(originEnd));
    const status = count(o.status);
    const bytes = count(o.bytes);
    if (status === undefined || bytes === undefined || (status !== null && status > STATUS_MAX)) return false;
    const gatewayId = optionalText(o.gateway_id);
    const requestId = optionalText(o.request_id);
    const msisdn = optionalText(o.msisdn);
    const bearer = optionalText(o.bearer);
    const clientIp = optionalText(o.client_ip);
    const method = optionalText(o.method);
    if (gatewayId === undefined || requestId === undefined || msisdn === undefined || bearer === undefined || clientIp === undefined || method === undefined) return false;
    const h = o.headers;
    const names = this.headerNameBytes;
    const values = this.headerValues;
    let headers = 0;
    if (h !== undefined && h !== null) {
      if (typeof h !== 'object' || Array.isArray(h)) return false;
      const record = h as Json;
      // for-in over the same object as readHeaders: the same names in the same order.
      for (const name in record) {
        const v = record[name];
        if (v === null) {
          if (this.nameOf(name) === null) return false;
          continue;
        }
        if (typeof v !== 'string') return false; // an array of values, or a value parseNdjsonLine refuses
        const bytes = this.nameOf(name);
        if (bytes === null) return false;
        names[headers] = bytes;
        values[headers++] = v;
      }
    }

    this.buf.set(this.header, this.pos);
    this.pos += HEADER_BYTES;
    this.long(ts);
    this.string(requestKeyOf(gatewayId, requestId, text));
    this.optionalString(gatewayId);
    this.optionalString(requestId);
    this.optionalString(msisdn);
    this.optionalString(bearer);
    this.optionalString(clientIp);
    this.optionalString(method);
    this.buf.set(origin, this.pos);
    this.pos += origin.length;
    this.string(pathQuery.path);
    this.string(pathQuery.query);
    if (headers > 0) {
      this.long(headers);
      for (let n = 0; n < headers; n++) {
        const name = names[n] as Buffer;
        this.buf.set(name, this.pos);
        this.pos += name.length;
        this.string(values[n] as string);
      }
    }
    this.long(0);
    this.optionalLong(status);
    this.optionalLong(bytes);
    this.ends.push(this.pos - this.partStart);
    this.keys.push(msisdn ?? gatewayId);
    return true;
  }

  /**
   * The Avro bytes of scheme, host and port of an origin (`http://host:port`, as parseTarget
   * reads it: the same scheme and authority as in the whole url), or null when it is not an
   * absolute target with a host (the line is then parseNdjsonLine's). Written at `pos` and
   * copied out, so nothing stays there.
   */
  private originOf(origin: string): Buffer | null {
    let bytes = this.originBytes.get(origin);
    if (bytes === undefined) {
      bytes = null;
      const target = parseTarget(origin);
      if (target.ok && target.value.host !== null && target.value.scheme !== null && target.value.path === '' && target.value.query === '') {
        const at = this.pos;
        this.optionalString(target.value.scheme);
        this.string(target.value.host.host);
        this.optionalLong(target.value.host.port);
        bytes = Buffer.from(this.buf.subarray(at, this.pos));
        this.pos = at;
      }
      if (this.originBytes.size >= NAME_CACHE_LIMIT) this.originBytes.clear();
      this.originBytes.set(origin, bytes);
    }
    return bytes;
  }

  /** The lower-cased name's Avro string bytes, or null when it is not an HTTP token. */
  private nameOf(name: string): Buffer | null {
    let bytes = this.nameBytes.get(name);
    if (bytes === undefined) {
      bytes = null;
      if (HEADER_TOKEN.test(name)) {
        bytes = stringBytes(lowerHeaderName(name));
      }
      if (this.nameBytes.size >= NAME_CACHE_LIMIT) this.nameBytes.clear();
      this.nameBytes.set(name, bytes);
    }
    return bytes;
  }

  private long(n: number): void {
    this.pos = writeLong(this.buf, this.pos, n);
  }

  private optionalLong(n: number | null): void {
    this.pos = writeNullableLong(this.buf, this.pos, n);
  }

  private optionalString(s: string | null): void {
    this.pos = writeNullableString(this.buf, this.pos, s);
  }

  private string(s: string): void {
    this.pos = writeString(this.buf, this.pos, s);
  }
}

type Json = Record<string, unknown>;

/** optionalText / optionalId of parseNdjsonLine for a string, null or absence: null when absent, null or ''; undefined for anything else (left to it). */
function optionalText(v: unknown): string | null | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') return undefined;
  return v.length === 0 ? null : v;
}

/** optionalCount of parseNdjsonLine for a JSON integer, null or absence; undefined for anything else, or above COUNT_MAX (left to it to refuse). */
function count(v: unknown): number | null | undefined {
  if (v === undefined || v === null) return null;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= COUNT_MAX ? v : undefined;
}
