// NDJSON gateway lines straight into Avro GatewayRequest bytes, for the shipper's reading
// thread: the usual gateway line is scanned once and its Avro single-object message written
// as it goes, without JSON.parse's object, the GatewayRequest, the Avro record or avsc's
// per-field dispatch (docs/benchmarks.md, "Ship: NDJSON transcoded straight to Avro").
//
// Exactness comes first: the scanner only takes the plain shape (an object of strings,
// integers and null, `headers` an object of strings, an absolute `url`, no escapes, no control
// characters, no repeated keys); anything else — and every line it is not sure of — is read by
// parseNdjsonLine and encoded by the codec, as before. The field rules are parseNdjsonLine's
// own (the README's "Log formats"), through the same functions where there is one; a test
// checks that both ways give the same bytes on every line shape of the parse tests.
import type { AvroCodec } from '../avro/index.js';
import { toAvroGatewayRequest } from '../avro/index.js';
import { lowerHeaderName } from '../core/parse/headers.js';
import { stripLineEnd } from '../core/parse/line-text.js';
import { HEADER_TOKEN, parseNdjsonLine } from '../core/parse/ndjson.js';
import { requestKeyOf } from '../core/parse/request-key.js';
import { parseTarget } from '../core/parse/target.js';
import { parseIsoDateTime } from '../core/parse/time.js';
import type { ParseResult } from '../core/types.js';
import type { EncodedRequests } from '../kafka/encoded.js';

/** What a line that is not a request gives: the reader records it as parseNdjsonLine said. */
export type NotARequest = Exclude<ParseResult, { ok: true }>;

// The fields the scanner knows, by position in `kinds`, `starts`, `ends`.
const TS = 0;
const GATEWAY_ID = 1;
const REQUEST_ID = 2;
const MSISDN = 3;
const BEARER = 4;
const CLIENT_IP = 5;
const METHOD = 6;
const URL_FIELD = 7;
const HEADERS = 8;
const STATUS = 9;
const BYTES = 10;
/** Read by parseNdjsonLine only when `url` is not absolute, which the scanner leaves to it: checked as JSON, then ignored. */
const IGNORED = 11;
const FIELDS = 11;

const FIELD_NAMES: ReadonlyMap<string, number> = new Map([
  ['ts', TS], ['gateway_id', GATEWAY_ID], ['request_id', REQUEST_ID], ['msisdn', MSISDN], ['bearer', BEARER], ['client_ip', CLIENT_IP],
  ['method', METHOD], ['url', URL_FIELD], ['headers', HEADERS], ['status', STATUS], ['bytes', BYTES],
]);

// Kinds of a scanned value.
const ABSENT = 0;
const STRING = 1;
const INTEGER = 2; // ASCII digits only, no sign, fraction or exponent
const OTHER_NUMBER = 3;
const NULL = 4;
const BOOLEAN = 5;
const OBJECT = 6;

/** Most headers on a line the scanner takes; a line with more is parsed the usual way. */
const MAX_HEADERS = 128;
/** Header names remembered with their Avro bytes; cleared when full, so made-up names cannot grow memory. */
const NAME_CACHE_LIMIT = 4096;
const INT_MAX = 2 ** 31 - 1;
/** parseNdjsonLine's bound on a count (what avsc writes as a long); above it the line is its to refuse. */
const COUNT_MAX = 2 ** 53 - 2;

/** A backslash (an escape) or a control character anywhere: the scanner leaves the line to JSON.parse. */
const UNUSUAL = /[\u0000-\u001f\\]/;

const HEADER_BYTES = 10;

export class NdjsonAvroWriter {
  private buf = Buffer.allocUnsafe(256 * 1024);
  private pos = 0;
  private ends: number[] = [];
  private keys: Array<string | null> = [];
  private readonly header: Buffer;
  private readonly kinds = new Uint8Array(FIELDS);
  private readonly starts = new Int32Array(FIELDS);
  private readonly stops = new Int32Array(FIELDS);
  /** Header name and value spans of the line being scanned: [nameStart, nameEnd, valueStart, valueEnd, …]; valueStart -1 for null. */
  private readonly headerSpans = new Int32Array(MAX_HEADERS * 4);
  private headerCount = 0;
  private readonly headerNames: string[] = [];
  private readonly headerNameBytes: Buffer[] = [];
  /** A header name as logged → its lower-cased Avro string bytes (length and UTF-8), or null when it is not an HTTP token. */
  private readonly nameBytes = new Map<string, Buffer | null>();
  /** Lines written by the scanner (the rest by parseNdjsonLine and the codec): for tests and profiles. */
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
    const at = this.pos;
    this.reserve(6 * text.length + 512);
    if (this.scan(text) && this.write(text)) {
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
    this.ends.push(this.pos);
    this.keys.push(r.msisdn ?? r.gatewayId ?? null);
    return null;
  }

  /** The requests written since the last take, in one buffer of their own (transferable), as encodeRequests gives them. */
  takeEncoded(): EncodedRequests {
    const bytes = Buffer.allocUnsafeSlow(this.pos);
    this.buf.copy(bytes, 0, 0, this.pos);
    const out = { keys: this.keys, bytes, ends: Uint32Array.from(this.ends) };
    this.pos = 0;
    this.ends = [];
    this.keys = [];
    return out;
  }

  private reserve(bytes: number): void {
    if (this.buf.length - this.pos >= bytes) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  // --- Scanning: JSON syntax and where each value is; false when the line is not plain. ---

  private scan(text: string): boolean {
    if (text.charCodeAt(0) !== 123 /* { */ || UNUSUAL.test(text)) return false;
    this.kinds.fill(ABSENT);
    this.headerCount = 0;
    let i = skipSpaces(text, 1);
    if (text.charCodeAt(i) === 125 /* } */) return false; // {}: no ts, a reject
    for (;;) {
      if (text.charCodeAt(i) !== 34 /* " */) return false;
      const keyEnd = text.indexOf('"', i + 1);
      if (keyEnd < 0) return false;
      const field = FIELD_NAMES.get(text.slice(i + 1, keyEnd)) ?? IGNORED;
      i = skipSpaces(text, keyEnd + 1);
      if (text.charCodeAt(i) !== 58 /* : */) return false;
      i = skipSpaces(text, i + 1);
      const start = i;
      let kind: number;
      const c = text.charCodeAt(i);
      if (c === 34 /* " */) {
        const end = text.indexOf('"', i + 1);
        if (end < 0) return false;
        kind = STRING;
        i = end + 1;
      } else if (c === 123 /* { */) {
        if (field !== HEADERS) return false;
        i = this.scanHeaders(text, i);
        if (i < 0) return false;
        kind = OBJECT;
      } else if (c === 110 /* n */ && text.startsWith('null', i)) {
        kind = NULL;
        i += 4;
      } else if ((c === 116 /* t */ && text.startsWith('true', i)) || (c === 102 /* f */ && text.startsWith('false', i))) {
        kind = BOOLEAN;
        i += c === 116 ? 4 : 5;
      } else {
        const end = numberEnd(text, i);
        if (end < 0) return false;
        kind = isDigits(text, start, end) ? INTEGER : OTHER_NUMBER;
        i = end;
      }
      if (field !== IGNORED) {
        if (this.kinds[field] !== ABSENT) return false; // a repeated key: JSON.parse keeps the last
        this.kinds[field] = kind;
        this.starts[field] = kind === STRING ? start + 1 : start;
        this.stops[field] = kind === STRING ? i - 1 : i;
      }
      i = skipSpaces(text, i);
      const next = text.charCodeAt(i);
      if (next === 44 /* , */) {
        i = skipSpaces(text, i + 1);
        continue;
      }
      if (next !== 125 /* } */) return false;
      return skipSpaces(text, i + 1) === text.length;
    }
  }

  /** The `headers` object from its `{`: the index after its `}`, or -1. */
  private scanHeaders(text: string, from: number): number {
    let i = skipSpaces(text, from + 1);
    if (text.charCodeAt(i) === 125 /* } */) return i + 1;
    const spans = this.headerSpans;
    const names = this.headerNames;
    for (let n = 0; ; n++) {
      if (n === MAX_HEADERS || text.charCodeAt(i) !== 34 /* " */) return -1;
      const nameEnd = text.indexOf('"', i + 1);
      if (nameEnd < 0) return -1;
      // A name of digits would be listed first by JSON.parse's object (an array index): left to it.
      const first = text.charCodeAt(i + 1);
      if (first >= 48 && first <= 57) return -1;
      const name = text.slice(i + 1, nameEnd);
      for (let k = 0; k < n; k++) if (names[k] === name) return -1; // repeated: JSON.parse keeps the last value at the first's place
      names[n] = name;
      spans[n * 4] = i + 1;
      spans[n * 4 + 1] = nameEnd;
      i = skipSpaces(text, nameEnd + 1);
      if (text.charCodeAt(i) !== 58 /* : */) return -1;
      i = skipSpaces(text, i + 1);
      const c = text.charCodeAt(i);
      if (c === 34 /* " */) {
        const end = text.indexOf('"', i + 1);
        if (end < 0) return -1;
        spans[n * 4 + 2] = i + 1;
        spans[n * 4 + 3] = end;
        i = end + 1;
      } else if (c === 110 /* n */ && text.startsWith('null', i)) {
        spans[n * 4 + 2] = -1; // not sent
        i += 4;
      } else {
        return -1; // an array of values, or a value parseNdjsonLine refuses
      }
      this.headerCount = n + 1;
      i = skipSpaces(text, i);
      const next = text.charCodeAt(i);
      if (next === 125 /* } */) return i + 1;
      if (next !== 44 /* , */) return -1;
      i = skipSpaces(text, i + 1);
    }
  }

  // --- Writing: parseNdjsonLine's field rules, then the GatewayRequest's Avro bytes. ---

  /** False when a value is one the scanner leaves to parseNdjsonLine (nothing is kept then). */
  private write(text: string): boolean {
    const kinds = this.kinds;
    const tsText = this.text(text, TS);
    const url = this.text(text, URL_FIELD);
    if (typeof tsText !== 'string' || typeof url !== 'string') return false;
    const ts = parseIsoDateTime(tsText);
    if (ts === null || ts < 0) return false;
    const target = parseTarget(url);
    if (!target.ok || target.value.host === null || target.value.scheme === null) return false;
    const status = this.count(text, STATUS);
    const bytes = this.count(text, BYTES);
    if (status === undefined || bytes === undefined || (status !== null && status > INT_MAX)) return false;
    const gatewayId = this.text(text, GATEWAY_ID);
    const requestId = this.text(text, REQUEST_ID);
    const msisdn = this.text(text, MSISDN);
    const bearer = this.text(text, BEARER);
    const clientIp = this.text(text, CLIENT_IP);
    const method = this.text(text, METHOD);
    if (gatewayId === undefined || requestId === undefined || msisdn === undefined || bearer === undefined || clientIp === undefined || method === undefined) return false;
    if (kinds[HEADERS] !== ABSENT && kinds[HEADERS] !== NULL && kinds[HEADERS] !== OBJECT) return false;
    const names = this.headerNameBytes;
    let headers = 0;
    for (let n = 0; n < this.headerCount; n++) {
      const name = this.nameOf(this.headerNames[n] as string);
      if (name === null) return false;
      if ((this.headerSpans[n * 4 + 2] as number) >= 0) headers++;
      names[n] = name;
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
    this.optionalString(target.value.scheme);
    this.string(target.value.host.host);
    this.optionalLong(target.value.host.port);
    this.string(target.value.path);
    this.string(target.value.query);
    if (headers > 0) {
      this.long(headers);
      const spans = this.headerSpans;
      for (let n = 0; n < this.headerCount; n++) {
        const valueStart = spans[n * 4 + 2] as number;
        if (valueStart < 0) continue;
        const name = names[n] as Buffer;
        this.buf.set(name, this.pos);
        this.pos += name.length;
        this.span(text, valueStart, spans[n * 4 + 3] as number);
      }
    }
    this.long(0);
    this.optionalLong(status);
    this.optionalLong(bytes);
    this.ends.push(this.pos);
    this.keys.push(msisdn ?? gatewayId);
    return true;
  }

  /** optionalText / optionalId of a scanned field: null when absent, null or ''; undefined when it is not a string (left to parseNdjsonLine). */
  private text(text: string, field: number): string | null | undefined {
    const kind = this.kinds[field];
    if (kind === ABSENT || kind === NULL) return null;
    if (kind !== STRING) return undefined;
    const start = this.starts[field] as number;
    const end = this.stops[field] as number;
    return start === end ? null : text.slice(start, end);
  }

  /** optionalCount of a scanned field for a JSON integer; undefined for anything the scanner leaves to parseNdjsonLine. */
  private count(text: string, field: number): number | null | undefined {
    const kind = this.kinds[field];
    if (kind === ABSENT || kind === NULL) return null;
    if (kind !== INTEGER) return undefined;
    const n = Number(text.slice(this.starts[field], this.stops[field]));
    return n <= COUNT_MAX ? n : undefined;
  }

  /** The lower-cased name's Avro string bytes, or null when it is not an HTTP token. */
  private nameOf(name: string): Buffer | null {
    let bytes = this.nameBytes.get(name);
    if (bytes === undefined) {
      bytes = null;
      if (HEADER_TOKEN.test(name)) {
        const lower = lowerHeaderName(name);
        const body = Buffer.from(lower, 'utf8');
        const length = Buffer.allocUnsafe(10);
        const end = writeLong(length, 0, body.length);
        bytes = Buffer.concat([length.subarray(0, end), body]);
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
    if (n === null) {
      this.buf[this.pos++] = 0;
    } else {
      this.buf[this.pos++] = 2;
      this.long(n);
    }
  }

  private optionalString(s: string | null): void {
    if (s === null) {
      this.buf[this.pos++] = 0;
    } else {
      this.buf[this.pos++] = 2;
      this.string(s);
    }
  }

  /** An Avro string: its UTF-8 length, then its bytes. */
  private string(s: string): void {
    this.span(s, 0, s.length);
  }

  /** text[start, end) as an Avro string. */
  private span(text: string, start: number, end: number): void {
    const buf = this.buf;
    const at = this.pos;
    let pos = writeLong(buf, at, end - start);
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        // Not ASCII: the UTF-8 length differs from the length in characters.
        const s = text.slice(start, end);
        pos = writeLong(buf, at, Buffer.byteLength(s, 'utf8'));
        this.pos = pos + buf.write(s, pos, 'utf8');
        return;
      }
      buf[pos++] = c;
    }
    this.pos = pos;
  }
}

/** Avro's zig-zag varint of a non-negative safe integer at `pos`; the position after it. */
function writeLong(buf: Buffer, pos: number, n: number): number {
  let z = n * 2;
  while (z >= 128) {
    buf[pos++] = (z % 128) | 128;
    z = Math.floor(z / 128);
  }
  buf[pos++] = z;
  return pos;
}

function skipSpaces(text: string, i: number): number {
  while (text.charCodeAt(i) === 32) i++;
  return i;
}

function isDigits(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** The end of a JSON number at `i` (RFC 8259 grammar), or -1 when none starts there. */
function numberEnd(text: string, i: number): number {
  if (text.charCodeAt(i) === 45 /* - */) i++;
  const first = text.charCodeAt(i);
  if (first === 48 /* 0 */) i++;
  else if (first >= 49 && first <= 57) i = digitsEnd(text, i);
  else return -1;
  if (text.charCodeAt(i) === 46 /* . */) {
    const end = digitsEnd(text, i + 1);
    if (end === i + 1) return -1;
    i = end;
  }
  const e = text.charCodeAt(i);
  if (e === 101 || e === 69 /* e E */) {
    i++;
    const sign = text.charCodeAt(i);
    if (sign === 43 || sign === 45) i++;
    const end = digitsEnd(text, i);
    if (end === i) return -1;
    i = end;
  }
  return i;
}

function digitsEnd(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  return i;
}
