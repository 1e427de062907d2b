// Gateway log files as a source: plain or gzip files (gzip told by its magic bytes, not its
// name) or stdin, streamed in bounded memory and parsed by core/parse into batches of
// GatewayRequest and RejectRecord. What crosses the boundary: paths in, batches out, and
// LeakscopeError INPUT_UNREADABLE / FORMAT_UNKNOWN naming the file.
import { open, type FileHandle } from 'node:fs/promises';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LeakscopeError, isLeakscopeError } from '../core/errors.js';
// The modules, not core/parse's index: the index brings the profile file's schema (ajv), which reading does not need.
import { createLineParser, detectFormat, type LineParser } from '../core/parse/line-parser.js';
import type { LogProfile } from '../core/parse/profile.js';
import type { GatewayRequest, LogFormat, ParseResult, RejectRecord } from '../core/types.js';
import { describeLine } from '../core/parse/line-text.js';
import { LineSplitter, type LineSink } from './line-splitter.js';

/** What the reader hands on: the parsed lines of one stretch of one source. */
export interface LogBatch {
  /** The path as given, or `-` for stdin. A batch never mixes sources. */
  source: string;
  requests: GatewayRequest[];
  rejects: RejectRecord[];
  /** Lines consumed, of every kind (requests, rejects, not forwarded, directives, blank lines). */
  lines: number;
  /** Requests the gateway did not forward (denied): counted, never judged. */
  notForwarded: number;
  /** Declared fields of this source that nobody reads, each listed in the first batch that met it. */
  unreadFields: string[];
  /**
   * Set on the last batch of a source whose reading stopped at a fault (corrupt or truncated
   * gzip, a read error, a format that cannot be told): what went wrong. Every line read
   * before it is in this or an earlier batch, and the fault itself is the last reject, at
   * the line where reading stopped. Null for a source read to its end.
   */
  fault: string | null;
  /**
   * Bytes consumed from the source for this batch, for progress: compressed bytes for a
   * gzip file, so the sum over a file's batches is its size on disk. For a byte range, the
   * bytes of the lines of this batch.
   */
  bytes: number;
  /** With ReadLogsOptions.ndjsonSink: the requests it took (they are not in `requests`). */
  taken?: number;
}

/**
 * Takes NDJSON lines before they are parsed (the shipper writes them straight into Avro):
 * null when the line was a request and is taken, else what parseNdjsonLine made of it.
 */
export interface NdjsonSink {
  take(line: string): Exclude<ParseResult, { ok: true }> | null;
}

export interface ReadLogsOptions {
  /** `auto` detects the format of each file from its first non-empty line. */
  format: LogFormat | 'auto';
  /** How the writer's fields map onto leakscope's; its syntax is the format (`format` must be `auto` or the same). */
  profile?: LogProfile | null;
  /** The stream read for the input `-`; default process.stdin. */
  stdin?: NodeJS.ReadableStream;
  /** Lines per batch (the last batch of a source may have fewer); default 512. */
  batchLines?: number;
  /** Bytes per read from a file; default 256 KiB. Small values are for tests. */
  readChunkBytes?: number;
  /** Longest line read, in bytes; a longer one is rejected whole. Default 1 MiB. */
  maxLineBytes?: number;
  /** Offered every line of an NDJSON source first (a request it takes is counted in LogBatch.taken). */
  ndjsonSink?: NdjsonSink | null;
}

export interface LogRangeOptions extends Omit<ReadLogsOptions, 'stdin'> {
  /** Byte offset where the range starts; need not be a line start (see readLogRange). */
  start: number;
  /** Byte offset where the range ends (exclusive), clamped to the file's size. */
  end: number;
  /** Number of the range's first line, when the caller knows it; otherwise counted. */
  firstLineNumber?: number;
  /**
   * The range's start as rangeStarts found it for `start`: nothing before the range is read
   * again (its line number, `#Fields:` and first byte are taken from here).
   */
  known?: RangeStart;
}

/**
 * Small on purpose: a batch's requests should die young. With 8192 lines a batch outlives
 * several scavenges, gets copied and promoted, and GC took half the time (100 MB/s NDJSON
 * against ~250 MB/s at 512, bench/parse.ts). Consumers that want bigger writes can gather.
 */
const DEFAULT_BATCH_LINES = 512;
const DEFAULT_READ_CHUNK_BYTES = 256 * 1024;
const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
/** Bytes of an over-long line kept as its reject's raw text: enough to recognise it, not to store it. */
const OVERLONG_RAW_BYTES = 4096;
const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

interface Settings {
  format: LogFormat | 'auto';
  profile: LogProfile | null;
  batchLines: number;
  readChunkBytes: number;
  maxLineBytes: number;
  ndjsonSink: NdjsonSink | null;
}

function positiveInteger(value: number | undefined, fallback: number, key: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new LeakscopeError('CONFIG_INVALID', `${key}: ${String(value)} is not a positive integer`);
  }
  return value;
}

const FORMATS: ReadonlySet<string> = new Set(['auto', 'ndjson', 'w3c', 'squid', 'csv']);

function settingsOf(options: ReadLogsOptions): Settings {
  if (!FORMATS.has(options.format)) {
    throw new LeakscopeError('USAGE', `format: ${JSON.stringify(options.format)} is not one of ${[...FORMATS].join(', ')}`);
  }
  const profile = options.profile ?? null;
  if (profile !== null && options.format !== 'auto' && options.format !== profile.syntax) {
    throw new LeakscopeError('USAGE', `format ${options.format} and the profile ${profile.name} (${profile.syntax}) disagree`);
  }
  return {
    format: profile !== null ? profile.syntax : options.format,
    profile,
    batchLines: positiveInteger(options.batchLines, DEFAULT_BATCH_LINES, 'batchLines'),
    readChunkBytes: positiveInteger(options.readChunkBytes, DEFAULT_READ_CHUNK_BYTES, 'readChunkBytes'),
    maxLineBytes: positiveInteger(options.maxLineBytes, DEFAULT_MAX_LINE_BYTES, 'maxLineBytes'),
    ndjsonSink: options.ndjsonSink ?? null,
  };
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 0xfeff) return false;
  }
  return true;
}

/** Thrown by BatchBuilder when a line makes the rest of its source unreadable; its reject is already recorded. */
class SourceStopped extends Error {}

/** Receives the lines of one source, parses them, and collects the current batch. */
class BatchBuilder implements LineSink {
  requests: GatewayRequest[] = [];
  rejects: RejectRecord[] = [];
  lines = 0;
  notForwarded = 0;
  taken = 0;
  unreadFields: string[] = [];
  private readonly unreadSeen = new Set<string>();
  private lineNumber: number;
  private parser: LineParser | null;
  private atFileStart: boolean;
  /** The source is NDJSON and a sink takes its lines. */
  private sinkTakes: boolean;

  constructor(
    private readonly source: string,
    format: LogFormat | null,
    private readonly maxLineBytes: number,
    firstLineNumber = 1,
    atFileStart = true,
    private readonly profile: LogProfile | null = null,
    private readonly sink: NdjsonSink | null = null,
  ) {
    this.parser = format === null ? null : createLineParser(format, profile);
    this.sinkTakes = format === 'ndjson' && sink !== null;
    this.noteUnread();
    this.lineNumber = firstLineNumber - 1;
    this.atFileStart = atFileStart;
  }

  /** Feeds a W3C `#Fields:` line (or a CSV header row) read before a byte range, so the range's lines are read with it. */
  prime(directive: string): void {
    this.parser?.parseLine(directive);
    this.noteUnread();
  }

  /** Takes the parser's newly declared unread fields, each name once per source. */
  private noteUnread(): void {
    const list = this.parser?.unreadFields?.();
    if (list === undefined) return;
    for (const name of list) {
      if (this.unreadSeen.has(name)) continue;
      this.unreadSeen.add(name);
      this.unreadFields.push(name);
    }
  }

  line(text: string): void {
    const n = ++this.lineNumber;
    this.lines++;
    if (this.atFileStart) {
      this.atFileStart = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let parser = this.parser;
    if (parser === null) {
      if (isBlank(text)) return;
      const format = detectFormat(text);
      if (format === null) {
        const reason = `cannot tell the log format from line ${n} (${describeLine(text)}): ` +
          'NDJSON lines start with "{" and W3C logs with a "#" directive; pass --format ndjson or --format w3c';
        this.rejects.push({ source: this.source, line: n, reason: `input refused from here on: ${reason}`, raw: text });
        throw new SourceStopped(reason);
      }
      parser = this.parser = createLineParser(format, this.profile);
      this.sinkTakes = format === 'ndjson' && this.sink !== null;
    }
    const result = this.sinkTakes ? (this.sink as NdjsonSink).take(text) : parser.parseLine(text);
    if (result === null) {
      this.taken++;
      return;
    }
    if (result.ok === true) this.requests.push(result.request);
    else if (result.ok === false) this.rejects.push({ source: this.source, line: n, reason: result.reason, raw: text });
    else if (result.ok === 'skip') this.noteUnread(); // directives and header rows declare fields
    else this.notForwarded++;
  }

  overlong(prefix: string, lengthBytes: number): void {
    const n = ++this.lineNumber;
    this.lines++;
    this.atFileStart = false;
    this.rejects.push({
      source: this.source,
      line: n,
      reason: `line longer than ${this.maxLineBytes} bytes (${lengthBytes} bytes); raw text cut to its first ${OVERLONG_RAW_BYTES} bytes`,
      raw: prefix,
    });
  }

  /**
   * Records the fault that stopped reading as a reject at the line where it stopped: the
   * line cut off by it (its bytes so far as raw text), or the line after the last one read.
   */
  fault(reason: string, cutOff: string | null): void {
    const n = this.lineNumber + 1;
    if (cutOff !== null) {
      this.lineNumber = n;
      this.lines++;
    }
    const where = cutOff === null ? `after line ${n - 1}` : `in line ${n}, which is cut off`;
    this.rejects.push({
      source: this.source,
      line: n,
      reason: `input refused from here on: ${reason}; reading stopped ${where}, and every line before it was read`,
      raw: cutOff ?? '',
    });
  }

  take(bytes: number, fault: string | null = null): LogBatch {
    const batch: LogBatch = {
      source: this.source, requests: this.requests, rejects: this.rejects, lines: this.lines, bytes, fault,
      notForwarded: this.notForwarded, unreadFields: this.unreadFields,
      ...(this.sink !== null ? { taken: this.taken } : {}),
    };
    this.taken = 0;
    this.requests = [];
    this.rejects = [];
    this.lines = 0;
    this.notForwarded = 0;
    this.unreadFields = [];
    return batch;
  }
}

/** Why reading a source stopped, without its name (the reject record names the source). */
function faultReason(err: unknown): string {
  if (err instanceof SourceStopped || isLeakscopeError(err)) return err.message;
  const e = err as NodeJS.ErrnoException;
  const detail = e?.message ?? String(err);
  if (typeof e?.code === 'string' && e.code.startsWith('Z_')) return `the gzip data is corrupt or truncated (${detail})`;
  return `cannot read: ${detail}`;
}

function unreadable(source: string, err: unknown): LeakscopeError {
  if (isLeakscopeError(err)) return err;
  const e = err as NodeJS.ErrnoException;
  const detail = e?.message ?? String(err);
  if (typeof e?.code === 'string' && e.code.startsWith('Z_')) {
    return new LeakscopeError('INPUT_UNREADABLE', `${source}: the gzip data is corrupt or truncated (${detail})`, { cause: err });
  }
  return new LeakscopeError('INPUT_UNREADABLE', `${source}: cannot read: ${detail}`, { cause: err });
}

function asBuffer(chunk: unknown): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
}

/**
 * The raw bytes of a source, gunzipped when they start with the gzip magic bytes. `counter`
 * counts raw bytes as they are read, for progress.
 */
async function* decodedChunks(raw: AsyncIterable<unknown>, counter: { bytes: number }): AsyncGenerator<Buffer> {
  const it = raw[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < 2) {
    const r = await it.next();
    if (r.done === true) {
      ended = true;
      break;
    }
    const b = asBuffer(r.value);
    counter.bytes += b.length;
    head.push(b);
    headBytes += b.length;
  }
  const first = Buffer.concat(head, headBytes);
  async function* counted(): AsyncGenerator<Buffer> {
    try {
      if (first.length > 0) yield first;
      while (!ended) {
        const r = await it.next();
        if (r.done === true) break;
        const b = asBuffer(r.value);
        counter.bytes += b.length;
        yield b;
      }
    } finally {
      await it.return?.();
    }
  }
  if (first[0] === GZIP_MAGIC_0 && first[1] === GZIP_MAGIC_1) {
    const gunzip = createGunzip();
    // pipeline forwards a read error to gunzip, so the loop below throws it; breaking out
    // of the loop destroys gunzip, which tears the pipeline (and the file) down.
    pipeline(Readable.from(counted()), gunzip, () => {});
    for await (const chunk of gunzip) yield chunk as Buffer;
  } else {
    yield* counted();
  }
}

/** Splits, parses and batches one source's (decoded) chunks. */
async function* batchesOf(
  source: string,
  raw: AsyncIterable<unknown>,
  settings: Settings,
): AsyncGenerator<LogBatch> {
  const counter = { bytes: 0 };
  let reported = 0;
  const builder = new BatchBuilder(source, settings.format === 'auto' ? null : settings.format, settings.maxLineBytes, 1, true, settings.profile, settings.ndjsonSink);
  const splitter = new LineSplitter(settings.maxLineBytes, OVERLONG_RAW_BYTES);
  // A fault part-way (a gzip cut short or corrupt, a read error, a format that cannot be
  // told) does not throw: what was read before it is handed on, the fault becomes the last
  // reject of this source, and the caller goes on with its other inputs.
  let fault: string | null = null;
  try {
    for await (const chunk of decodedChunks(raw, counter)) {
      splitter.feed(chunk);
      while (!splitter.drain(builder, settings.batchLines - builder.lines) || builder.lines >= settings.batchLines) {
        if (builder.lines >= settings.batchLines) {
          const bytes = counter.bytes - reported;
          reported = counter.bytes;
          yield builder.take(bytes);
        }
      }
    }
    splitter.finish(builder);
  } catch (err) {
    fault = faultReason(err);
    const cutOff = splitter.abandon();
    if (!(err instanceof SourceStopped)) builder.fault(fault, cutOff);
  }
  if (builder.lines > 0 || counter.bytes > reported || fault !== null) yield builder.take(counter.bytes - reported, fault);
}

/** Batches of one log file, plain or gzip. */
export async function* readLogFile(path: string, options: ReadLogsOptions): AsyncGenerator<LogBatch> {
  const settings = settingsOf(options);
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      throw Object.assign(new Error('it is a directory, not a file'), { code: 'EISDIR' });
    }
  } catch (err) {
    throw unreadable(path, err);
  }
  // A stream with no position: FIFOs, process substitution (`<(zcat x)`) and character
  // devices cannot seek, and are read like any file from where they are.
  yield* batchesOf(path, handle.createReadStream({ highWaterMark: settings.readChunkBytes }), settings);
}

/**
 * Batches of every input in order: a path, or `-` for `options.stdin`. Each file's format
 * is detected on its own when `format` is `auto`. Options are checked before anything is
 * read (a bad one throws here); a file that cannot be read throws INPUT_UNREADABLE, one of
 * unknown format FORMAT_UNKNOWN, both when iteration reaches it. Breaking out of the
 * iteration closes the file.
 */
export function readLogs(inputs: readonly string[], options: ReadLogsOptions): AsyncIterable<LogBatch> {
  const settings = settingsOf(options);
  return (async function* () {
    for (const input of inputs) {
      if (input === '-') yield* batchesOf('-', options.stdin ?? process.stdin, settings);
      else yield* readLogFile(input, settings);
    }
  })();
}

interface Prefix {
  newlines: number;
  /** The last W3C `#Fields:` line before the range, if any. */
  fieldsLine: string | null;
  /** First byte of the file that is not whitespace (after a BOM), or -1. */
  firstByte: number;
}

function isSpaceByte(b: number): boolean {
  return b === 32 || b === 9 || b === 10 || b === 13;
}

/**
 * Reads a file from its start once, fast: counts newlines (indexOf per line, no decoding),
 * notes the first non-blank byte, and decodes only lines starting with `#`, to find the last
 * `#Fields:` directive. `advanceTo` can be called with growing offsets, each giving the
 * prefix up to there, so the starts of many ranges cost one pass.
 */
class PrefixScanner {
  private readonly prefix: Prefix = { newlines: 0, fieldsLine: null, firstByte: -1 };
  private readonly buf: Buffer;
  private offset = 0;
  private atLineStart = true;
  private directive: Buffer[] | null = null;

  constructor(private readonly handle: FileHandle, bufferBytes: number) {
    this.buf = Buffer.allocUnsafe(Math.max(bufferBytes, 1));
  }

  /** The prefix of [0, upto); `upto` must not be below the last one asked for. */
  async advanceTo(upto: number): Promise<Prefix> {
    const { buf, prefix } = this;
    while (this.offset < upto) {
      const { bytesRead } = await this.handle.read(buf, 0, Math.min(buf.length, upto - this.offset), this.offset);
      if (bytesRead === 0) break;
      let i = 0;
      if (this.offset === 0 && bytesRead >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3;
      while (i < bytesRead) {
        if (this.atLineStart) {
          this.atLineStart = false;
          if (buf[i] === 0x23 /* # */) this.directive = [];
        }
        const nl = buf.indexOf(10, i);
        const stop = nl < 0 || nl >= bytesRead ? bytesRead : nl;
        if (prefix.firstByte < 0) {
          for (let j = i; j < stop; j++) {
            if (!isSpaceByte(buf[j]!)) {
              prefix.firstByte = buf[j]!;
              break;
            }
          }
        }
        if (this.directive !== null) this.directive.push(Buffer.from(buf.subarray(i, stop)));
        if (stop === bytesRead) break;
        prefix.newlines++;
        this.atLineStart = true;
        if (this.directive !== null) {
          const text = Buffer.concat(this.directive).toString('utf8');
          if (text.slice(0, 8).toLowerCase() === '#fields:') prefix.fieldsLine = text;
          this.directive = null;
        }
        i = nl + 1;
      }
      this.offset += bytesRead;
    }
    return { ...prefix };
  }
}

async function scanPrefix(handle: FileHandle, upto: number, chunkBytes: number): Promise<Prefix> {
  return new PrefixScanner(handle, Math.min(chunkBytes * 4, Math.max(upto, 1))).advanceTo(upto);
}

/**
 * Where a range of a plain file starts, as readLogRange needs it: the first line start at or
 * after the offset asked for, the number of that line, and (for W3C) the `#Fields:` in force
 * there and the file's first non-blank byte (for `auto`). Found for many offsets in one pass
 * by rangeStarts, so that ranges need not each count the lines before them.
 */
export interface RangeStart {
  start: number;
  lineNumber: number;
  fieldsLine: string | null;
  firstByte: number;
}

/** Opens a log file for reading; a failure is INPUT_UNREADABLE naming the file. */
async function openLog(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    throw unreadable(path, err);
  }
}

/** The RangeStart of each offset (ascending), reading the file once up to the last of them. */
export async function rangeStarts(path: string, offsets: readonly number[], chunkBytes = DEFAULT_READ_CHUNK_BYTES): Promise<RangeStart[]> {
  const handle = await openLog(path);
  try {
    const size = (await handle.stat()).size;
    const scanner = new PrefixScanner(handle, chunkBytes * 4);
    const out: RangeStart[] = [];
    for (const offset of offsets) {
      const start = await alignStart(handle, offset, size, chunkBytes);
      if (out.length > 0 && start < out[out.length - 1]!.start) throw new LeakscopeError('CONFIG_INVALID', `range offsets of ${path} must ascend`);
      const prefix = await scanner.advanceTo(start);
      out.push({ start, lineNumber: prefix.newlines + 1, fieldsLine: prefix.fieldsLine, firstByte: prefix.firstByte });
    }
    return out;
  } catch (err) {
    throw unreadable(path, err);
  } finally {
    await handle.close();
  }
}

/** The file's first non-blank line within its first `upto` bytes (a CSV header row), or null. */
async function firstNonBlankLine(handle: FileHandle, upto: number): Promise<string | null> {
  const buf = Buffer.alloc(upto);
  const { bytesRead } = await handle.read(buf, 0, upto, 0);
  const text = buf.toString('utf8', 0, bytesRead).replace(/^\uFEFF/, '');
  for (const line of text.split('\n')) if (!isBlank(line)) return line;
  return null;
}

/** The first line start at or after `start`: `start` itself when a line begins there. */
async function alignStart(handle: FileHandle, start: number, size: number, chunkBytes: number): Promise<number> {
  if (start <= 0) return 0;
  if (start >= size) return size;
  const buf = Buffer.allocUnsafe(chunkBytes);
  let offset = start - 1;
  while (offset < size) {
    const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, size - offset), offset);
    if (bytesRead === 0) break;
    const nl = buf.subarray(0, bytesRead).indexOf(10);
    if (nl >= 0) return offset + nl + 1;
    offset += bytesRead;
  }
  return size;
}

/**
 * Batches of the lines of a plain log file that *start* in [start, end), so that any
 * split of a file into consecutive ranges reads every line exactly once, whatever the
 * offsets: a line crossing `end` is read whole by this range, and one crossing `start` is
 * left to the range before. For worker threads sharing one big file.
 *
 * Line numbers are exact: `firstLineNumber` when given (the number of the range's first
 * line), otherwise the newlines before the range are counted (a fast byte scan, no
 * decoding: about the cost of reading that part of the file once). For W3C the scan also
 * finds the `#Fields:` directive in force where the range starts; with `format: 'auto'`
 * it detects the format from the file's first non-blank byte. A gzip file has no byte
 * ranges: it is refused with FORMAT_UNKNOWN.
 */
export async function* readLogRange(path: string, options: LogRangeOptions): AsyncGenerator<LogBatch> {
  const settings = settingsOf(options);
  if (!Number.isSafeInteger(options.start) || !Number.isSafeInteger(options.end) || options.start < 0 || options.end < options.start) {
    throw new LeakscopeError('CONFIG_INVALID', `byte range [${options.start}, ${options.end}) of ${path} is not 0 <= start <= end`);
  }
  if (options.firstLineNumber !== undefined) positiveInteger(options.firstLineNumber, 1, 'firstLineNumber');
  const handle = await openLog(path);
  try {
    let size: number;
    let start: number;
    let prefix: Prefix | null = null;
    try {
      size = (await handle.stat()).size;
      const magic = Buffer.alloc(2);
      await handle.read(magic, 0, 2, 0);
      if (magic[0] === GZIP_MAGIC_0 && magic[1] === GZIP_MAGIC_1) {
        throw new LeakscopeError('FORMAT_UNKNOWN', `${path}: is gzip-compressed; byte ranges can only be read from a plain file`);
      }
      const known = options.known;
      if (known !== undefined) {
        start = known.start;
        prefix = { newlines: known.lineNumber - 1, fieldsLine: known.fieldsLine, firstByte: known.firstByte };
      } else {
        start = await alignStart(handle, options.start, size, settings.readChunkBytes);
        if (options.firstLineNumber === undefined || settings.format !== 'ndjson') {
          prefix = await scanPrefix(handle, start, settings.readChunkBytes);
        }
      }
    } catch (err) {
      throw unreadable(path, err);
    }
    const end = Math.min(options.end, size);
    if (start >= end) return;

    let format: LogFormat | null = settings.format === 'auto' ? null : settings.format;
    if (format === null && prefix !== null && prefix.firstByte >= 0) {
      format = detectFormat(String.fromCharCode(prefix.firstByte));
      if (format === null) {
        throw new LeakscopeError(
          'FORMAT_UNKNOWN',
          `${path}: cannot tell the log format from its first line: NDJSON lines start with "{" and W3C logs with a "#" directive; pass --format ndjson or --format w3c`,
        );
      }
    }
    const firstLine = options.known?.lineNumber ?? options.firstLineNumber ?? (prefix?.newlines ?? 0) + 1;
    const builder = new BatchBuilder(path, format, settings.maxLineBytes, firstLine, start === 0, settings.profile, settings.ndjsonSink);
    if (format === 'w3c' && prefix?.fieldsLine != null) builder.prime(prefix.fieldsLine);
    if (format === 'csv' && start > 0) {
      const headerRow = await firstNonBlankLine(handle, Math.min(start, settings.maxLineBytes));
      if (headerRow !== null) builder.prime(headerRow);
    }
    const splitter = new LineSplitter(settings.maxLineBytes, OVERLONG_RAW_BYTES, start);
    splitter.stopAt = end;
    let reported = start;
    try {
      const stream = handle.createReadStream({ start, highWaterMark: settings.readChunkBytes, autoClose: false });
      reading: for await (const chunk of stream) {
        splitter.feed(chunk as Buffer);
        while (!splitter.drain(builder, settings.batchLines - builder.lines) || builder.lines >= settings.batchLines) {
          if (builder.lines >= settings.batchLines) {
            yield builder.take(splitter.lineStart - reported);
            reported = splitter.lineStart;
          }
          if (splitter.stopped) break reading;
        }
        if (splitter.stopped) break;
      }
      if (!splitter.stopped) splitter.finish(builder);
    } catch (err) {
      throw unreadable(path, err);
    }
    const consumed = (splitter.stopped ? splitter.lineStart : size) - reported;
    if (builder.lines > 0 || consumed > 0) yield builder.take(consumed, null);
  } finally {
    await handle.close();
  }
}
