import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeakscopeError } from '../../../services/core/errors.js';
import { rangeStarts, readLogFile, readLogRange, readLogs, type LogBatch } from '../../../services/files/logs.js';

function ndjson(n: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    ts: `2012-01-10T09:31:${String(n % 60).padStart(2, '0')}.123Z`,
    gateway_id: 'gw-lon-01',
    request_id: String(n),
    msisdn: n % 3 === 0 ? null : '447700900123',
    url: `http://www.example.com/news?id=${n}`,
    headers: { Host: 'www.example.com', 'User-Agent': 'Mozilla/5.0 (Linux; U; Android 2.3.4; en-gb) – é', 'X-UP-Calling-Line-ID': '447700900123' },
    ...extra,
  });
}

const W3C = [
  '#Version: 1.0',
  '#Fields: date time x-gateway-id x-request-id x-msisdn cs-host cs-uri-path cs(User-Agent) sr(X-MSISDN)',
  '2012-01-10 09:31:02.123 gw-lon-01 1 447700900123 www.example.com /news "Mozilla/5.0 (Linux)" 447700900123',
  '2012-01-10 09:31:03 gw-lon-01 2 - m.example.org / "Opera/9.80 (J2ME/MIDP)" -',
  '#Fields: date time x-gateway-id x-request-id cs-uri',
  '2012-01-10 09:31:04 gw-lon-01 3 http://www.example.net/a?b=1',
].join('\r\n') + '\r\n';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'leakscope-logs-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function collect(batches: AsyncIterable<LogBatch>): Promise<LogBatch[]> {
  const out: LogBatch[] = [];
  for await (const b of batches) out.push(b);
  return out;
}

function requestIds(batches: LogBatch[]): (string | null)[] {
  return batches.flatMap((b) => b.requests.map((r) => r.requestId));
}

/** A stream that delivers `bytes` in chunks of `size`, as a pipe might. */
function chunked(bytes: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

describe('readLogs', () => {
  it('reads an NDJSON file into requests with their source and counts', async () => {
    const content = [ndjson(1), ndjson(2), ndjson(3)].join('\n') + '\n';
    const path = await file('a.ndjson', content);
    const batches = await collect(readLogs([path], { format: 'auto' }));
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ source: path, lines: 3, bytes: Buffer.byteLength(content), rejects: [] });
    expect(requestIds(batches)).toEqual(['1', '2', '3']);
    expect(batches[0]!.requests[0]!.headers).toContainEqual(['x-up-calling-line-id', '447700900123']);
  });

  it('reads a W3C file with CRLF lines and a #Fields directive declared again', async () => {
    const path = await file('a.log', W3C);
    const [batch] = await collect(readLogs([path], { format: 'auto' }));
    expect(batch!.lines).toBe(6);
    expect(batch!.rejects).toEqual([]);
    expect(batch!.requests.map((r) => [r.requestId, r.host, r.msisdn])).toEqual([
      ['1', 'www.example.com', '447700900123'],
      ['2', 'm.example.org', null],
      ['3', 'www.example.net', null],
    ]);
  });

  it('detects the format of each file on its own', async () => {
    const a = await file('mixed-a.log', W3C);
    const b = await file('mixed-b.ndjson', ndjson(7) + '\n');
    const batches = await collect(readLogs([a, b], { format: 'auto' }));
    expect(batches.map((x) => [x.source, x.requests.length])).toEqual([[a, 3], [b, 1]]);
  });

  it('detects gzip by its magic bytes whatever the file is called', async () => {
    const content = [ndjson(1), ndjson(2)].join('\n') + '\n';
    const gz = gzipSync(content);
    const path = await file('not-compressed.log', gz);
    const batches = await collect(readLogs([path], { format: 'auto', readChunkBytes: 7 }));
    expect(requestIds(batches)).toEqual(['1', '2']);
    expect(batches.reduce((n, b) => n + b.bytes, 0)).toBe(gz.length);
  });

  it('reads a plain file whose name ends in .gz as plain', async () => {
    const path = await file('plain.log.gz', ndjson(1) + '\n');
    expect(requestIds(await collect(readLogs([path], { format: 'auto' })))).toEqual(['1']);
  });

  it('reads gzip members concatenated by log rotation', async () => {
    const path = await file('members.gz', Buffer.concat([gzipSync(ndjson(1) + '\n'), gzipSync(ndjson(2) + '\n')]));
    expect(requestIds(await collect(readLogs([path], { format: 'auto' })))).toEqual(['1', '2']);
  });

  it('reads stdin for the input -', async () => {
    const stdin = chunked(Buffer.from(W3C), 5);
    const batches = await collect(readLogs(['-'], { format: 'auto', stdin }));
    expect(batches.map((b) => b.source)).toEqual(['-']);
    expect(requestIds(batches)).toEqual(['1', '2', '3']);
  });

  it('reads gzip from stdin', async () => {
    const stdin = chunked(gzipSync(ndjson(1) + '\n' + ndjson(2)), 1);
    expect(requestIds(await collect(readLogs(['-'], { format: 'ndjson', stdin })))).toEqual(['1', '2']);
  });

  it('reads stdin given as strings', async () => {
    const stdin = Readable.from([ndjson(1).slice(0, 10), ndjson(1).slice(10) + '\n']);
    expect(requestIds(await collect(readLogs(['-'], { format: 'ndjson', stdin })))).toEqual(['1']);
  });

  it('rejects lines with source, 1-based line number, reason and raw text without its terminator', async () => {
    const content = ['#Fields: date time cs-host', '2012-01-10 09:31:02 a.example', '2012-13-10 09:31:02 b.example', '', 'x y'].join('\r\n');
    const path = await file('rejects.log', content);
    const [batch] = await collect(readLogs([path], { format: 'w3c' }));
    expect(batch!.rejects).toEqual([
      { source: path, line: 3, reason: 'date: "2012-13-10" is not a date YYYY-MM-DD', raw: '2012-13-10 09:31:02 b.example' },
      { source: path, line: 5, reason: '2 values for the 3 fields declared by #Fields', raw: 'x y' },
    ]);
    expect(batch!.lines).toBe(5);
  });

  it('parses with the format given, even when the file looks otherwise', async () => {
    const path = await file('forced.log', ndjson(1) + '\n');
    const [batch] = await collect(readLogs([path], { format: 'w3c' }));
    expect(batch!.rejects.map((r) => r.reason)).toEqual(['data line before any #Fields directive']);
  });

  it('skips blank lines before detecting the format, and a byte-order mark', async () => {
    const path = await file('bom.ndjson', '\uFEFF\n  \n' + ndjson(1) + '\n');
    const [batch] = await collect(readLogs([path], { format: 'auto' }));
    expect([batch!.lines, batch!.requests.length, batch!.rejects.length]).toEqual([3, 1, 0]);
  });

  it('reads a final line without a newline', async () => {
    const path = await file('no-newline.ndjson', ndjson(1) + '\n' + ndjson(2));
    const batches = await collect(readLogs([path], { format: 'auto' }));
    expect(requestIds(batches)).toEqual(['1', '2']);
  });

  it('yields nothing for an empty file', async () => {
    const path = await file('empty.log', '');
    expect(await collect(readLogs([path], { format: 'auto' }))).toEqual([]);
  });

  it('cuts batches at batchLines lines, the last one shorter', async () => {
    const content = Array.from({ length: 10 }, (_, i) => ndjson(i)).join('\n') + '\n';
    const path = await file('batches.ndjson', content);
    const batches = await collect(readLogs([path], { format: 'auto', batchLines: 4, readChunkBytes: 100 }));
    expect(batches.map((b) => b.lines)).toEqual([4, 4, 2]);
    expect(requestIds(batches)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    expect(batches.reduce((n, b) => n + b.bytes, 0)).toBe(Buffer.byteLength(content));
  });

  it('rejects a line longer than the cap and reads on', async () => {
    const long = ndjson(2, { pad: 'x'.repeat(5000) });
    const path = await file('long.ndjson', [ndjson(1), long, ndjson(3)].join('\n'));
    for (const readChunkBytes of [64, 1000, 1 << 16]) {
      const batches = await collect(readLogs([path], { format: 'auto', maxLineBytes: 2000, readChunkBytes }));
      expect(requestIds(batches)).toEqual(['1', '3']);
      const rejects = batches.flatMap((b) => b.rejects);
      expect(rejects).toHaveLength(1);
      expect(rejects[0]!.line).toBe(2);
      expect(rejects[0]!.reason).toBe(`line longer than 2000 bytes (${Buffer.byteLength(long)} bytes); raw text cut to its first 4096 bytes`);
      expect(rejects[0]!.raw).toBe(Buffer.from(long).subarray(0, 4096).toString());
    }
  });

  it('rejects a last line longer than the cap that has no newline', async () => {
    const path = await file('long-last.ndjson', ndjson(1) + '\n' + 'y'.repeat(3000));
    const batches = await collect(readLogs([path], { format: 'auto', maxLineBytes: 2000, readChunkBytes: 100 }));
    expect(batches.flatMap((b) => b.rejects.map((r) => [r.line, r.raw.length]))).toEqual([[2, 3000]]);
  });

  it('keeps lines and multi-byte characters whole across every chunk size', async () => {
    const content = Buffer.from([ndjson(1), ndjson(2, { note: '日本語 😀 Ωμέγα' }), '', ndjson(3)].join('\r\n'));
    const expected = await collect(readLogs(['-'], { format: 'auto', stdin: Readable.from([content]) }));
    for (let size = 1; size <= 40; size++) {
      const batches = await collect(readLogs(['-'], { format: 'auto', stdin: chunked(content, size) }));
      expect(batches.flatMap((b) => b.requests)).toEqual(expected.flatMap((b) => b.requests));
      expect(batches.reduce((n, b) => n + b.lines, 0)).toBe(4);
    }
  });

  it('splits any content into the same lines whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, '')), { maxLength: 12 }),
        fc.integer({ min: 1, max: 64 }),
        async (lines, size) => {
          const content = Buffer.from(['#Fields: date time cs-host cs(X-A)', ...lines.map((l) => `2012-01-10 09:31:02 a.example "${l.replace(/"/g, '""')}"`)].join('\n'));
          const batches = await collect(readLogs(['-'], { format: 'w3c', stdin: chunked(content, size) }));
          const values = batches.flatMap((b) => b.requests.map((r) => r.headers[0]?.[1]));
          expect(values).toEqual(lines);
        },
      ),
      { numRuns: 60 },
    );
  }, 30_000);

  it('refuses a file whose first line is neither format as a fault at line 1, without echoing its digits', async () => {
    const path = await file('apache.log', '10.12.0.5 - - [10/Jan/2012:09:31:02 +0000] "GET /?n=447700900123 HTTP/1.1" 200 5120\nmore\n');
    const batches = await collect(readLogs([path], { format: 'auto' }));
    expect(batches).toHaveLength(1);
    const [batch] = batches;
    expect(batch!.fault).toMatch(/cannot tell the log format from line 1/);
    expect(batch!.fault).not.toMatch(/\d\d\d\d/);
    expect(batch!.fault).toContain('##.##.#.#');
    expect(batch!.rejects).toEqual([expect.objectContaining({ source: path, line: 1, raw: expect.stringContaining('10.12.0.5') })]);
  });

  it.each([
    ['a missing file', (d: string) => join(d, 'missing.log')],
    ['a directory', (d: string) => d],
  ])('throws INPUT_UNREADABLE naming %s', async (_title, pathOf) => {
    const path = pathOf(dir);
    const error = await collect(readLogs([path], { format: 'auto' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INPUT_UNREADABLE', message: expect.stringContaining(path) });
  });

  it('reads every line a truncated gzip holds, then records the fault as a reject at the line it stopped at', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => ndjson(i));
    const gz = gzipSync(lines.join('\n'));
    const cut = gz.subarray(0, Math.floor(gz.length / 2));
    // What zcat recovers: everything that inflates before the cut.
    const recovered = gunzipSync(cut, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString('utf8').split('\n');
    const complete = recovered.length - 1; // the last piece is a line cut off
    const path = await file('truncated.gz', cut);
    await file('after.ndjson', `${ndjson(1)}\n${ndjson(2)}\n`);
    const batches = await collect(readLogs([path, path.replace('truncated.gz', 'after.ndjson')], { format: 'auto', batchLines: 100 }));
    const ofCut = batches.filter((b) => b.source === path);
    expect(ofCut.reduce((n, b) => n + b.requests.length, 0)).toBe(complete);
    expect(ofCut.at(-1)!.fault).toMatch(/gzip data is corrupt or truncated/);
    expect(ofCut.slice(0, -1).every((b) => b.fault === null)).toBe(true);
    const rejects = ofCut.flatMap((b) => b.rejects);
    expect(rejects).toEqual([expect.objectContaining({ line: complete + 1, raw: recovered.at(-1), reason: expect.stringMatching(/^input refused from here on: the gzip data is corrupt or truncated .*line \d+, which is cut off/) })]);
    // The next input is read as usual.
    expect(batches.filter((b) => b.source !== path).reduce((n, b) => n + b.requests.length, 0)).toBe(2);
  });

  it('records a corrupt gzip as a fault of that input after the lines before the corruption', async () => {
    const gz = Buffer.from(gzipSync(Array.from({ length: 2000 }, (_, i) => ndjson(i)).join('\n')));
    for (let i = Math.floor(gz.length * 0.6); i < gz.length - 8; i++) gz[i] = 0xff;
    const path = await file('corrupt.gz', gz);
    const batches = await collect(readLogs([path], { format: 'auto', batchLines: 100 }));
    const last = batches.at(-1)!;
    expect(last.fault).toMatch(/gzip data is corrupt or truncated/);
    expect(batches.reduce((n, b) => n + b.requests.length, 0)).toBeGreaterThan(0);
    expect(last.rejects.at(-1)!.reason).toMatch(/^input refused from here on/);
  });

  it.each([
    ['batchLines of 0', { batchLines: 0 }, 'CONFIG_INVALID'],
    ['a fractional readChunkBytes', { readChunkBytes: 1.5 }, 'CONFIG_INVALID'],
    ['an unknown format', { format: 'xml' }, 'USAGE'],
  ])('refuses %s before reading anything', (_title, options, code) => {
    expect(() => readLogs(['/nonexistent'], { format: 'auto', ...options } as never)).toThrow(
      expect.objectContaining({ code }) as Error,
    );
  });

  it('stops reading when the consumer stops early', async () => {
    const path = await file('early.ndjson', Array.from({ length: 100 }, (_, i) => ndjson(i)).join('\n'));
    for await (const batch of readLogs([path], { format: 'auto', batchLines: 10, readChunkBytes: 256 })) {
      expect(batch.lines).toBe(10);
      break;
    }
  });
});

describe('readLogFile', () => {
  it('reads one file', async () => {
    const path = await file('one.ndjson', ndjson(5) + '\n');
    expect(requestIds(await collect(readLogFile(path, { format: 'auto' })))).toEqual(['5']);
  });
});

describe('readLogRange', () => {
  const lines = [
    '#Version: 1.0',
    '#Fields: date time x-gateway-id x-request-id cs-host',
    ...Array.from({ length: 20 }, (_, i) => `2012-01-10 09:31:02 gw-lon-01 ${i + 1} host${i + 1}.example`),
    '#Fields: date time x-request-id cs-host x-msisdn',
    ...Array.from({ length: 20 }, (_, i) => `2012-01-10 09:31:03 ${i + 21} host${i + 21}.example 447700900123`),
    'bad line',
  ];
  const content = lines.join('\n') + '\n';
  const size = Buffer.byteLength(content);

  async function readSplit(path: string, cuts: number[], format: 'auto' | 'w3c' | 'ndjson' = 'auto'): Promise<LogBatch[][]> {
    const bounds = [0, ...cuts, size];
    const parts: LogBatch[][] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      parts.push(await collect(readLogRange(path, { start: bounds[i]!, end: bounds[i + 1]!, format, readChunkBytes: 13, batchLines: 7 })));
    }
    return parts;
  }

  it('reads every line exactly once, with exact line numbers, however a file is cut', async () => {
    const path = await file('range.log', content);
    const whole = (await collect(readLogs([path], { format: 'auto' })))[0]!;
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: size - 1 }), { maxLength: 6 }), async (cuts) => {
        const parts = await readSplit(path, [...cuts].sort((a, b) => a - b));
        const batches = parts.flat();
        expect(batches.flatMap((b) => b.requests)).toEqual(whole.requests);
        expect(batches.flatMap((b) => b.rejects)).toEqual(whole.rejects);
        expect(batches.reduce((n, b) => n + b.lines, 0)).toBe(lines.length);
        expect(batches.reduce((n, b) => n + b.bytes, 0)).toBe(size);
      }),
      { numRuns: 40 },
    );
    expect(whole.rejects).toEqual([{ source: path, line: 44, reason: '2 values for the 5 fields declared by #Fields', raw: 'bad line' }]);
  }, 30_000);

  it('reads the same, line numbers and #Fields included, from range starts found in one pass (rangeStarts)', async () => {
    const path = await file('range-known.log', content);
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: size - 1 }), { maxLength: 6 }), async (cuts) => {
        const sorted = [...cuts].sort((a, b) => a - b);
        const starts = await rangeStarts(path, [0, ...sorted], 13);
        const known = [];
        for (let i = 0; i < starts.length; i++) {
          const end = i + 1 < starts.length ? starts[i + 1]!.start : size;
          known.push(await collect(readLogRange(path, { start: starts[i]!.start, end, known: starts[i]!, format: 'auto', readChunkBytes: 13, batchLines: 7 })));
        }
        const counted = await readSplit(path, sorted);
        const strip = (parts: LogBatch[][]) => parts.flat().map((b) => ({ requests: b.requests, rejects: b.rejects, lines: b.lines }));
        expect(strip(known)).toEqual(strip(counted));
        expect(known.flat().reduce((n, b) => n + b.lines, 0)).toBe(lines.length);
      }),
      { numRuns: 30 },
    );
  }, 30_000);

  it('uses the #Fields directive in force where the range starts', async () => {
    const path = await file('range-fields.log', content);
    const start = content.indexOf('2012-01-10 09:31:03 25 ');
    const batches = await collect(readLogRange(path, { start, end: start + 1, format: 'w3c' }));
    expect(batches.flatMap((b) => b.requests.map((r) => [r.requestId, r.host, r.msisdn]))).toEqual([['25', 'host25.example', '447700900123']]);
  });

  it('numbers lines from firstLineNumber when the caller gives it', async () => {
    const path = await file('range-ndjson.ndjson', [ndjson(1), '{', ndjson(3)].join('\n'));
    const start = Buffer.byteLength(ndjson(1)) + 1;
    const batches = await collect(readLogRange(path, { start, end: start + 1, format: 'ndjson', firstLineNumber: 1002 }));
    expect(batches.flatMap((b) => b.rejects.map((r) => r.line))).toEqual([1002]);
  });

  it('reads nothing from a range inside the last line', async () => {
    const path = await file('range-empty.log', content);
    expect(await collect(readLogRange(path, { start: size - 3, end: size, format: 'w3c' }))).toEqual([]);
  });

  it('refuses a gzip file', async () => {
    const path = await file('range.gz', gzipSync(content));
    const error = await collect(readLogRange(path, { start: 0, end: 10, format: 'w3c' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FORMAT_UNKNOWN', message: expect.stringContaining(path) });
  });

  it('throws INPUT_UNREADABLE for a missing file', async () => {
    const path = join(dir, 'missing-range.log');
    const error = await collect(readLogRange(path, { start: 0, end: 10, format: 'w3c' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INPUT_UNREADABLE', message: expect.stringContaining(path) });
  });
});
