import { describe, expect, it } from 'vitest';
import { LineSplitter, type LineSink } from '../../../services/files/line-splitter.js';

type Event = ['line', string] | ['overlong', string, number];

/** Feeds `bytes` in chunks of `size`, draining at most `maxLines` lines per drain call. */
function split(bytes: Buffer, size: number, options: { maxLineBytes?: number; prefixBytes?: number; maxLines?: number; start?: number; stopAt?: number } = {}): Event[] {
  const events: Event[] = [];
  const sink: LineSink = {
    line: (text) => events.push(['line', text]),
    overlong: (prefix, length) => events.push(['overlong', prefix, length]),
  };
  const splitter = new LineSplitter(options.maxLineBytes ?? 1 << 20, options.prefixBytes ?? 8, options.start ?? 0);
  if (options.stopAt !== undefined) splitter.stopAt = options.stopAt;
  for (let i = 0; i < bytes.length && !splitter.stopped; i += size) {
    splitter.feed(bytes.subarray(i, i + size));
    while (!splitter.drain(sink, options.maxLines ?? 1000)) {
      // drained in steps of maxLines
    }
  }
  if (!splitter.stopped) splitter.finish(sink);
  return events;
}

describe('LineSplitter', () => {
  it.each([1, 2, 3, 5, 64])('splits LF and CRLF lines in chunks of %i bytes', (size) => {
    expect(split(Buffer.from('a\r\nbb\n\nccc\r\nd'), size, { maxLines: 1 })).toEqual([
      ['line', 'a'], ['line', 'bb'], ['line', ''], ['line', 'ccc'], ['line', 'd'],
    ]);
  });

  it.each([1, 2, 3, 4])('decodes a character split across chunks of %i bytes', (size) => {
    expect(split(Buffer.from('€😀\né'), size)).toEqual([['line', '€😀'], ['line', 'é']]);
  });

  it('keeps a lone CR that is not before a newline', () => {
    expect(split(Buffer.from('a\rb\n'), 1)).toEqual([['line', 'a\rb']]);
  });

  it.each([1, 3, 100])('reports an over-long line with its head and length in chunks of %i bytes', (size) => {
    expect(split(Buffer.from('ok\n0123456789abcdef\nok2'), size, { maxLineBytes: 10, prefixBytes: 4 })).toEqual([
      ['line', 'ok'], ['overlong', '0123', 16], ['line', 'ok2'],
    ]);
  });

  it('stops before the first line that starts at or after stopAt', () => {
    // Offsets: "aa\n" 10-12, "bb\n" 13-15, "cc" 16-17.
    expect(split(Buffer.from('aa\nbb\ncc'), 2, { start: 10, stopAt: 14 })).toEqual([['line', 'aa'], ['line', 'bb']]);
    expect(split(Buffer.from('aa\nbb\ncc'), 2, { start: 10, stopAt: 16 })).toEqual([['line', 'aa'], ['line', 'bb']]);
    expect(split(Buffer.from('aa\nbb\ncc'), 2, { start: 10, stopAt: 17 })).toEqual([['line', 'aa'], ['line', 'bb'], ['line', 'cc']]);
  });
});

describe('LineSplitter: the line cap', () => {
  it.each([1, 2, 3, 7, 64])('does not count the CR of a CRLF line (chunks of %i bytes)', (size) => {
    expect(split(Buffer.from('0123456789\r\nok\r\n0123456789\r\n'), size, { maxLineBytes: 10, prefixBytes: 4 })).toEqual([
      ['line', '0123456789'], ['line', 'ok'], ['line', '0123456789'],
    ]);
  });

  it.each([1, 2, 3, 7, 64])('still refuses a line one byte over the cap, with or without CR (chunks of %i bytes)', (size) => {
    expect(split(Buffer.from('0123456789a\r\n0123456789a\n0123456789a'), size, { maxLineBytes: 10, prefixBytes: 4 })).toEqual([
      ['overlong', '0123', 12], ['overlong', '0123', 11], ['overlong', '0123', 11],
    ]);
  });

  it('reads a last line of exactly the cap plus a CR, without a newline', () => {
    expect(split(Buffer.from('0123456789\r'), 3, { maxLineBytes: 10 })).toEqual([['line', '0123456789']]);
  });
});
