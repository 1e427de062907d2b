// Reading gateway-requests records straight into GatewayRequest, for the detector's hot loop.
// A record written with the current GatewayRequest schema is read here field by field from its
// bytes, with one string conversion per record instead of one per field (the body is read as
// one latin1 string and each ASCII field cut out of it; a field with other bytes is UTF-8
// decoded as avsc does). Anything else — another writer schema, a union index, length or number
// this reader does not take, trailing bytes — goes to the codec (avsc), so the result, or the
// error, is always the codec's: decodeAs + fromAvroGatewayRequest (README, "The detector's hot loop").
import type { GatewayRequest } from '../core/types.js';
import type { AvroCodec } from './codec.js';
import { fromAvroGatewayRequest } from './records.js';

const HEADER_BYTES = 10;

/**
 * The current schema's fields, in order, as this reader reads them ('s' string, 'ns' union of
 * null and string, 'ni' null|int, 'nl' null|long, 'l' long, 'h' the headers array). The codec's
 * schema is compared with it once; a schema that differs turns the fast path off.
 */
const LAYOUT: ReadonlyArray<readonly [string, string]> = [
  ['ts', 'l'], ['request_key', 's'], ['gateway_id', 'ns'], ['request_id', 'ns'], ['msisdn', 'ns'], ['bearer', 'ns'],
  ['client_ip', 'ns'], ['method', 'ns'], ['scheme', 'ns'], ['host', 's'], ['port', 'ni'], ['path', 's'], ['query', 's'],
  ['headers', 'h'], ['status', 'ni'], ['bytes', 'nl'],
];

/** avsc's bound for a long it reads without losing precision. */
const SAFE_LONG = 9007199254740990;

/** Thrown inside the fast path only: the record is left to the codec. */
const NOT_PLAIN = new Error('not a plain record');

/** Read position in one record, and its body as latin1 text: an ASCII string field is cut out of it, others are UTF-8 decoded. */
class Cursor {
  pos = HEADER_BYTES;
  readonly text: string;
  constructor(readonly buf: Buffer) {
    this.text = buf.toString('latin1', HEADER_BYTES);
  }

  /** avsc's zigzag varint reading, with the same arithmetic; a long avsc would refuse is left to it. */
  long(): number {
    const buf = this.buf;
    let n = 0;
    let k = 0;
    let b: number;
    do {
      if (this.pos >= buf.length) throw NOT_PLAIN;
      b = buf[this.pos++]!;
      n |= (b & 0x7f) << k;
      k += 7;
    } while (b & 0x80 && k < 28);
    if (!(b & 0x80)) return (n >> 1) ^ -(n & 1);
    let f = n;
    let fk = 268435456;
    do {
      if (this.pos >= buf.length) throw NOT_PLAIN;
      b = buf[this.pos++]!;
      f += (b & 0x7f) * fk;
      fk *= 128;
    } while (b & 0x80);
    const value = (f % 2 ? -(f + 1) : f) / 2;
    if (!(value >= -SAFE_LONG && value <= SAFE_LONG)) throw NOT_PLAIN;
    return value;
  }

  int(): number {
    const v = this.long();
    if (v !== (v | 0)) throw NOT_PLAIN;
    return v;
  }

  string(): string {
    const len = this.long();
    const start = this.pos;
    const end = start + len;
    const buf = this.buf;
    if (len < 0 || end > buf.length) throw NOT_PLAIN;
    this.pos = end;
    for (let i = start; i < end; i++) if (buf[i]! >= 0x80) return buf.toString('utf8', start, end);
    return this.text.slice(start - HEADER_BYTES, end - HEADER_BYTES);
  }

  /** A ["null", T] union: true when T follows. */
  present(): boolean {
    const index = this.long();
    if (index === 0) return false;
    if (index === 1) return true;
    throw NOT_PLAIN;
  }
}

function readPlain(c: Cursor): GatewayRequest {
  const ts = c.long();
  const requestKey = c.string();
  const gatewayId = c.present() ? c.string() : null;
  const requestId = c.present() ? c.string() : null;
  const msisdn = c.present() ? c.string() : null;
  const bearer = c.present() ? c.string() : null;
  const clientIp = c.present() ? c.string() : null;
  const method = c.present() ? c.string() : null;
  const scheme = c.present() ? c.string() : null;
  const host = c.string();
  const port = c.present() ? c.int() : null;
  const path = c.string();
  const query = c.string();
  const headers: Array<readonly [string, string]> = [];
  for (;;) {
    let count = c.long();
    if (count === 0) break;
    if (count < 0) {
      count = -count;
      c.long(); // the block's size in bytes
    }
    // Every header takes at least two bytes: a larger count is a corrupt record (the codec says so).
    if (count > (c.buf.length - c.pos) / 2) throw NOT_PLAIN;
    for (let i = 0; i < count; i++) {
      const name = c.string();
      headers.push([name, c.string()]);
    }
  }
  const status = c.present() ? c.int() : null;
  const bytes = c.present() ? c.long() : null;
  if (c.pos !== c.buf.length) throw NOT_PLAIN;
  return { ts, requestKey, gatewayId, requestId, msisdn, bearer, clientIp, method, scheme, host, port, path, query, headers, status, bytes };
}

export class GatewayRequestReader {
  /** The current schema's fingerprint as two little-endian words; null when the fast path is off. */
  private readonly lo: number | null;
  private readonly hi: number;

  constructor(private readonly codec: AvroCodec) {
    const fp = Buffer.from(codec.fingerprint('GatewayRequest'), 'hex');
    this.lo = layoutMatches(codec) ? fp.readUInt32LE(0) : null;
    this.hi = fp.readUInt32LE(4);
  }

  /** True when records of the current schema are read here (false: every record goes to the codec). */
  get fast(): boolean {
    return this.lo !== null;
  }

  /** The request in `buf` (an Avro single-object GatewayRequest message); throws the codec's LeakscopeError when it is not one. */
  read(buf: Buffer): GatewayRequest {
    if (this.lo !== null && buf.length > HEADER_BYTES && buf[0] === 0xc3 && buf[1] === 0x01
      && buf.readUInt32LE(2) === this.lo && buf.readUInt32LE(6) === this.hi) {
      try {
        return readPlain(new Cursor(buf));
      } catch (err) {
        if (err !== NOT_PLAIN) throw err;
      }
    }
    return fromAvroGatewayRequest(this.codec.decodeAs('GatewayRequest', buf));
  }
}

/** Whether the codec's current GatewayRequest schema has exactly LAYOUT's fields. */
function layoutMatches(codec: AvroCodec): boolean {
  const current = codec.knownSchemas().find((s) => s.schemaName === 'GatewayRequest' && s.version === 'current');
  if (current === undefined) return false;
  const schema = JSON.parse(current.canonicalForm) as { fields: Array<{ name: string; type: unknown }> };
  if (schema.fields.length !== LAYOUT.length) return false;
  return schema.fields.every((f, i) => f.name === LAYOUT[i]![0] && kindOf(f.type) === LAYOUT[i]![1]);
}

function kindOf(type: unknown): string | null {
  if (type === 'string') return 's';
  if (type === 'long') return 'l';
  if (Array.isArray(type) && type.length === 2 && type[0] === 'null') {
    if (type[1] === 'string') return 'ns';
    if (type[1] === 'int') return 'ni';
    if (type[1] === 'long') return 'nl';
    return null;
  }
  const t = type as { type?: unknown; items?: { type?: unknown; fields?: Array<{ name: string; type: unknown }> } };
  if (t?.type === 'array' && t.items?.type === 'record') {
    const f = t.items.fields ?? [];
    if (f.length === 2 && f[0]!.name === 'name' && f[0]!.type === 'string' && f[1]!.name === 'value' && f[1]!.type === 'string') return 'h';
  }
  return null;
}
