// Avro single-object encoding (spec: "Single-object encoding"): C3 01, the 8-byte little-endian
// CRC-64-AVRO fingerprint of the writer schema's Parsing Canonical Form, then the binary body.
// Every known writer schema (schemas/*.avsc and schemas/history/*.avsc) is resolved against the
// current reader schema once, at construction; avsc errors become LeakscopeErrors here.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { LeakscopeError } from '../core/errors.js';
import { crc64AvroBytes } from './crc64-avro.js';
import { SCHEMA_NAMES, type AvroRecords, type SchemaName } from './records.js';

type AvroType = avro.Type;
type Resolver = ReturnType<AvroType['createResolver']>;

const MARKER_0 = 0xc3;
const MARKER_1 = 0x01;
const HEADER_BYTES = 10;

/** From services/avro/*.ts and from dist/avro/*.js alike, the schemas are two folders up. */
/**
 * The repository's schemas/ folder, found upwards from this module: two levels up from
 * services/avro (vitest) and dist/avro (the CLI), three from dist-bench/services/avro.
 */
export const DEFAULT_SCHEMAS_DIR = findSchemasDir(fileURLToPath(new URL('.', import.meta.url)));

function findSchemasDir(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'schemas');
    if (existsSync(join(candidate, 'GatewayRequest.avsc'))) return candidate;
    if (dirname(dir) === dir) return join(from, '..', '..', 'schemas'); // the codec names the missing file
  }
}

export type DecodedMessage = { [N in SchemaName]: { schemaName: N; value: AvroRecords[N] } }[SchemaName];

/** One writer schema the codec can read. */
export interface KnownSchema {
  schemaName: SchemaName;
  /** `current` or the history file's version label (`v1`). */
  version: string;
  /** CRC-64-AVRO, 16 hex digits, in the byte order of the wire (little-endian). */
  fingerprint: string;
  canonicalForm: string;
}

interface WriterEntry {
  lo: number;
  hi: number;
  known: KnownSchema;
  writer: AvroType;
  reader: AvroType;
  /** Undefined when writer and reader are the same schema (the fast path). */
  resolver: Resolver | undefined;
}

export interface AvroCodecOptions {
  /** Folder holding `<Name>.avsc` and `history/<Name>.v<N>.avsc`; default the repository's `schemas/`. */
  schemasDir?: string;
}

/** Parsing Canonical Form of a schema, as avsc computes it (checked against the spec's vectors in tests). */
export function canonicalForm(type: AvroType): string {
  return JSON.stringify(type.schema());
}

export class AvroCodec {
  private readonly current = new Map<SchemaName, { type: AvroType; header: Buffer }>();
  private readonly writers: WriterEntry[] = [];
  private scratch = Buffer.allocUnsafe(64 * 1024);

  /** Reads and resolves every schema now, so a broken or incompatible schema fails at start-up. */
  constructor(options: AvroCodecOptions = {}) {
    const dir = options.schemasDir ?? DEFAULT_SCHEMAS_DIR;
    for (const name of SCHEMA_NAMES) {
      const type = parseSchemaFile(join(dir, `${name}.avsc`), name);
      const known = describe(type, name, 'current');
      const header = Buffer.alloc(HEADER_BYTES);
      header[0] = MARKER_0;
      header[1] = MARKER_1;
      Buffer.from(known.fingerprint, 'hex').copy(header, 2);
      this.current.set(name, { type, header });
      this.addWriter(known, type, type, undefined);
    }
    for (const file of listHistory(join(dir, 'history'))) {
      const match = /^([A-Za-z]+)\.(v[0-9]+)\.avsc$/.exec(file);
      const name = match?.[1] as SchemaName | undefined;
      if (match === null || name === undefined || !SCHEMA_NAMES.includes(name)) {
        throw new LeakscopeError('SCHEMA_INCOMPATIBLE', `${join(dir, 'history', file)}: expected a name like GatewayRequest.v1.avsc for one of ${SCHEMA_NAMES.join(', ')}`);
      }
      const path = join(dir, 'history', file);
      const writer = parseSchemaFile(path, name);
      const known = describe(writer, name, match[2] as string);
      if (this.writers.some((w) => w.known.fingerprint === known.fingerprint)) continue; // same canonical form: nothing to resolve
      const reader = (this.current.get(name) as { type: AvroType }).type;
      let resolver: Resolver;
      try {
        resolver = reader.createResolver(writer);
      } catch (cause) {
        throw new LeakscopeError('SCHEMA_INCOMPATIBLE', `${path}: cannot be read with the current ${name} schema: ${(cause as Error).message}`, { cause });
      }
      this.addWriter(known, writer, reader, resolver);
    }
  }

  private addWriter(known: KnownSchema, writer: AvroType, reader: AvroType, resolver: Resolver | undefined): void {
    const fp = Buffer.from(known.fingerprint, 'hex');
    this.writers.push({ lo: fp.readUInt32LE(0), hi: fp.readUInt32LE(4), known, writer, reader, resolver });
  }

  /** Every writer schema this codec reads: the current ones first, then history. */
  knownSchemas(): KnownSchema[] {
    return this.writers.map((w) => ({ ...w.known }));
  }

  /** Fingerprint (16 hex digits, wire order) of the current schema `name`. */
  fingerprint(name: SchemaName): string {
    return (this.current.get(name) as { header: Buffer }).header.subarray(2).toString('hex');
  }

  /** Single-object encoding of `value` with the current schema `name`. */
  encode<N extends SchemaName>(name: N, value: AvroRecords[N]): Buffer {
    const entry = this.current.get(name);
    if (entry === undefined) throw new LeakscopeError('SCHEMA_UNKNOWN', `no schema named ${String(name)}; known: ${SCHEMA_NAMES.join(', ')}`);
    let end: number;
    for (;;) {
      entry.header.copy(this.scratch, 0);
      try {
        end = entry.type.encode(value, this.scratch, HEADER_BYTES);
      } catch (cause) {
        throw invalidValue(entry.type, name, value, cause);
      }
      // avsc returns the negative number of missing bytes when the buffer is too small.
      if (end >= 0) break;
      this.scratch = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.scratch.length - end));
    }
    return Buffer.from(this.scratch.subarray(0, end));
  }

  /**
   * Single-object encodings of `values`, one after another in one buffer: message i is
   * `bytes.subarray(i === 0 ? 0 : ends[i - 1], ends[i])`. One allocation for a whole batch
   * instead of one per message, and a form that crosses to another thread in one transfer.
   */
  encodeAll<N extends SchemaName>(name: N, values: readonly AvroRecords[N][]): { bytes: Buffer; ends: Uint32Array } {
    const entry = this.current.get(name);
    if (entry === undefined) throw new LeakscopeError('SCHEMA_UNKNOWN', `no schema named ${String(name)}; known: ${SCHEMA_NAMES.join(', ')}`);
    const ends = new Uint32Array(values.length);
    let pos = 0;
    for (let i = 0; i < values.length; i++) {
      const value = values[i] as AvroRecords[N];
      for (;;) {
        if (this.scratch.length - pos >= HEADER_BYTES) {
          entry.header.copy(this.scratch, pos);
          let end: number;
          try {
            end = entry.type.encode(value, this.scratch, pos + HEADER_BYTES);
          } catch (cause) {
            throw invalidValue(entry.type, name, value, cause);
          }
          if (end >= 0) {
            pos = end;
            break;
          }
        }
        // Too small (avsc returns minus the bytes missing): grow, keeping what is written.
        const grown = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, pos + 64 * 1024));
        this.scratch.copy(grown, 0, 0, pos);
        this.scratch = grown;
      }
      ends[i] = pos;
    }
    // Its own memory (never Node's shared pool), so that it can be transferred.
    const bytes = Buffer.allocUnsafeSlow(pos);
    this.scratch.copy(bytes, 0, 0, pos);
    return { bytes, ends };
  }

  /** Reads a single-object message written with any known version of any schema, as the current schema. */
  decode(buf: Buffer): DecodedMessage {
    const w = this.writerOf(buf);
    return { schemaName: w.known.schemaName, value: this.body(w, buf) } as DecodedMessage;
  }

  /** As decode, but the message must be of schema `name` (SCHEMA_INCOMPATIBLE otherwise). */
  decodeAs<N extends SchemaName>(name: N, buf: Buffer): AvroRecords[N] {
    const w = this.writerOf(buf);
    if (w.known.schemaName !== name) {
      throw new LeakscopeError('SCHEMA_INCOMPATIBLE', `expected a ${name} message, got ${w.known.schemaName} (fingerprint ${w.known.fingerprint})`);
    }
    return this.body(w, buf) as AvroRecords[N];
  }

  private writerOf(buf: Buffer): WriterEntry {
    if (buf.length < HEADER_BYTES || buf[0] !== MARKER_0 || buf[1] !== MARKER_1) {
      const start = buf.subarray(0, 2).toString('hex') || 'nothing';
      throw new LeakscopeError(
        'SCHEMA_UNKNOWN',
        `not an Avro single-object message: expected marker c301 and an 8-byte fingerprint, got ${buf.length} bytes starting ${start}`,
      );
    }
    const lo = buf.readUInt32LE(2);
    const hi = buf.readUInt32LE(6);
    for (const w of this.writers) if (w.lo === lo && w.hi === hi) return w;
    const fingerprint = buf.subarray(2, HEADER_BYTES).toString('hex');
    throw new LeakscopeError(
      'SCHEMA_UNKNOWN',
      `unknown Avro schema fingerprint ${fingerprint}: the writer used a schema this version of leakscope does not have; add it to schemas/history/ or upgrade the reader`,
    );
  }

  private body(w: WriterEntry, buf: Buffer): unknown {
    let result: { value: unknown; offset: number };
    try {
      // A hostile array count must not make avsc allocate before running out of bytes: the
      // writer type (guarded) reads history messages once before the resolver does.
      if (w.resolver !== undefined && w.writer.decode(buf, HEADER_BYTES).offset !== buf.length) {
        throw new Error('truncated or trailing bytes');
      }
      result = w.reader.decode(buf, HEADER_BYTES, w.resolver);
    } catch (cause) {
      throw corrupt(w, buf, (cause as Error).message, cause);
    }
    if (result.offset !== buf.length) {
      throw corrupt(w, buf, result.offset < 0 ? 'truncated body' : `${buf.length - result.offset} trailing bytes`, undefined);
    }
    return result.value;
  }
}

function corrupt(w: WriterEntry, buf: Buffer, reason: string, cause: unknown): LeakscopeError {
  return new LeakscopeError(
    'SCHEMA_INCOMPATIBLE',
    `${w.known.schemaName} message (fingerprint ${w.known.fingerprint}, ${buf.length} bytes) does not match its writer schema: ${reason}`,
    cause === undefined ? {} : { cause },
  );
}

function invalidValue(type: AvroType, name: string, value: unknown, cause: unknown): LeakscopeError {
  const paths: string[] = [];
  type.isValid(value, { errorHook: (path: string[]) => { paths.push(path.join('.') || '(record)'); } });
  const where = paths.length > 0 ? `: invalid at ${paths.slice(0, 5).join(', ')}` : '';
  return new LeakscopeError('INTERNAL', `value does not fit the ${name} schema${where}`, { cause });
}

function parseSchemaFile(path: string, name: SchemaName): AvroType {
  let schema: unknown;
  try {
    schema = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new LeakscopeError('SCHEMA_UNKNOWN', `${path}: cannot read the Avro schema: ${(cause as Error).message}`, { cause });
  }
  let type: AvroType;
  try {
    // No logical type implementations: timestamp-millis stays a plain number of milliseconds.
    type = avro.Type.forSchema(schema as avro.Schema, { omitRecordMethods: true, wrapUnions: 'never', typeHook: guardArrays });
  } catch (cause) {
    throw new LeakscopeError('SCHEMA_UNKNOWN', `${path}: not a valid Avro schema: ${(cause as Error).message}`, { cause });
  }
  if (type.name !== `leakscope.${name}`) {
    throw new LeakscopeError('SCHEMA_UNKNOWN', `${path}: expected a record named leakscope.${name}, got ${type.name ?? type.typeName}`);
  }
  return type;
}

function describe(type: AvroType, name: SchemaName, version: string): KnownSchema {
  const canonical = canonicalForm(type);
  return { schemaName: name, version, fingerprint: crc64AvroBytes(canonical).toString('hex'), canonicalForm: canonical };
}

function listHistory(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.avsc')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

// avsc 5.7 internals (pinned): a Tap has `buf`, `pos`, readLong, skipLong, _invalidate; records
// read each field through the field type's `_read`. Arrays are the one place where a corrupt
// message could make avsc allocate without bound (a block count of 2^31 in a 50-byte message).
// Every item of our arrays takes at least one byte, so a count larger than the bytes left is
// refused by invalidating the tap, which decode then reports as a truncated body.
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  _invalidate(): void;
}
interface ItemType {
  _read(tap: Tap): unknown;
}

const BaseArrayType = (avro as unknown as { types: { ArrayType: new (schema: unknown, opts: unknown) => AvroType } }).types.ArrayType;

class GuardedArrayType extends BaseArrayType {
  _read(tap: Tap): unknown[] {
    const items = (this as unknown as { itemsType: ItemType }).itemsType;
    const val: unknown[] = [];
    let i = 0;
    let n: number;
    while ((n = tap.readLong())) {
      if (n < 0) {
        n = -n;
        tap.skipLong();
      }
      if (n > tap.buf.length - tap.pos) {
        tap._invalidate();
        return val;
      }
      while (n--) val[i++] = items._read(tap);
    }
    return val;
  }
}

/** avsc type hook: arrays of non-empty items get the guarded reader. */
function guardArrays(schema: avro.Schema, opts: unknown): AvroType | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema) || (schema as { type?: unknown }).type !== 'array') return undefined;
  const items = (schema as { items?: unknown }).items;
  // Items that may take zero bytes (null, a record without fields) keep avsc's own reader.
  if (items === 'null' || (typeof items === 'object' && items !== null && ((items as { type?: unknown }).type === 'null' || (items as { fields?: unknown[] }).fields?.length === 0))) return undefined;
  return new GuardedArrayType(schema, opts);
}
