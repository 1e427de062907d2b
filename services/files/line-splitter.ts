// Splits a byte stream into lines without readline: indexOf('\n') on each Buffer chunk and
// one UTF-8 decode per line. A line split across chunks is carried as bytes, so a
// multi-byte character split across chunks is decoded whole ('\n' never occurs inside a
// UTF-8 sequence). Memory stays bounded: a line longer than the cap is not kept, only its
// first bytes, for the reject.

export interface LineSink {
  /** A complete line, decoded, without its LF or CRLF. */
  line(text: string): void;
  /** A line longer than the cap: its first bytes (decoded) and its full length in bytes. */
  overlong(prefix: string, lengthBytes: number): void;
}

const EMPTY = Buffer.alloc(0);

export class LineSplitter {
  /** Stream offset of the first byte of the next line not yet emitted. */
  lineStart: number;
  /** Lines starting at or after this stream offset are not emitted (for byte ranges). */
  stopAt = Number.POSITIVE_INFINITY;
  /** True once a line at or past `stopAt` was reached: nothing more will be emitted. */
  stopped = false;

  private chunk: Buffer = EMPTY;
  private chunkBase: number;
  private pos = 0;
  /** Bytes of a line begun in earlier chunks (copies). */
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** Inside a line already over the cap: only its length and first `prefixBytes` are kept. */
  private discarding = false;
  private discardHead: Buffer[] = [];
  private discardHeadBytes = 0;
  private discardBytes = 0;

  /**
   * @param maxLineBytes longest line kept, in bytes without the terminator
   * @param prefixBytes bytes of an over-long line kept for its reject
   * @param startOffset stream offset of the first byte fed (for byte ranges of a file)
   */
  constructor(
    private readonly maxLineBytes: number,
    private readonly prefixBytes: number,
    startOffset = 0,
  ) {
    this.lineStart = startOffset;
    this.chunkBase = startOffset;
  }

  /** Hands over the next chunk. The previous one must have been drained (drain returned true). */
  feed(chunk: Buffer): void {
    this.chunkBase += this.chunk.length;
    this.chunk = chunk;
    this.pos = 0;
  }

  /**
   * Emits up to `maxLines` complete lines of the current chunk. Returns true when the chunk
   * is used up (a trailing partial line is carried to the next one) or the range stopped;
   * false when it stopped at `maxLines` with more lines left.
   */
  drain(sink: LineSink, maxLines: number): boolean {
    const buf = this.chunk;
    let emitted = 0;
    while (emitted < maxLines) {
      if (this.lineStart >= this.stopAt) {
        this.stopped = true;
        return true;
      }
      const nl = buf.indexOf(10, this.pos);
      if (nl < 0) {
        this.keep(buf, this.pos);
        this.pos = buf.length;
        return true;
      }
      if (this.carryBytes > 0 || this.discarding) {
        this.emitCarried(sink, buf, nl);
      } else if (nl - this.pos - (nl > this.pos && buf[nl - 1] === 13 ? 1 : 0) > this.maxLineBytes) {
        // The cap is on the line's own bytes: the CR of a CRLF ending does not count.
        sink.overlong(buf.toString('utf8', this.pos, this.pos + this.prefixBytes), nl - this.pos);
      } else {
        let end = nl;
        if (end > this.pos && buf[end - 1] === 13) end--;
        sink.line(buf.toString('utf8', this.pos, end));
      }
      this.pos = nl + 1;
      this.lineStart = this.chunkBase + this.pos;
      emitted++;
    }
    return this.pos >= buf.length;
  }

  /** End of the stream: emits a last line that had no newline, if any. */
  finish(sink: LineSink): void {
    if (this.lineStart >= this.stopAt) {
      this.stopped = true;
    } else if (this.discarding) {
      sink.overlong(this.headText(), this.discardBytes);
    } else if (this.carryBytes > 0) {
      const bytes = Buffer.concat(this.carry, this.carryBytes);
      const own = bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
      if (own > this.maxLineBytes) sink.overlong(bytes.toString('utf8', 0, this.prefixBytes), bytes.length);
      else sink.line(decodeLine(bytes));
    }
    this.resetCarry();
  }

  /**
   * Reading stopped at a fault: the bytes of the line begun and not finished (decoded, at
   * most the cap's prefix), or null when the last line read was complete. Nothing more is
   * emitted after this.
   */
  abandon(): string | null {
    let cut: string | null = null;
    if (this.discarding) cut = this.headText();
    else if (this.carryBytes > 0) cut = decodeLine(Buffer.concat(this.carry, this.carryBytes));
    this.resetCarry();
    this.stopped = true;
    return cut;
  }

  private emitCarried(sink: LineSink, buf: Buffer, nl: number): void {
    const tail = nl - this.pos;
    const cr = (tail > 0 ? buf[nl - 1] === 13 : this.lastCarriedByte() === 13) ? 1 : 0;
    if (!this.discarding && this.carryBytes + tail - cr <= this.maxLineBytes) {
      this.carry.push(buf.subarray(this.pos, nl));
      sink.line(decodeLine(Buffer.concat(this.carry, this.carryBytes + tail)));
    } else {
      this.discard(buf, this.pos, nl);
      sink.overlong(this.headText(), this.discardBytes);
    }
    this.resetCarry();
  }

  private lastCarriedByte(): number {
    const last = this.carry[this.carry.length - 1];
    return last === undefined || last.length === 0 ? -1 : last[last.length - 1]!;
  }

  /** Keeps the bytes of `buf` from `from` on: the start of a line that continues in the next chunk. */
  private keep(buf: Buffer, from: number): void {
    const n = buf.length - from;
    if (n === 0) return;
    // One byte of room beyond the cap: it may be the CR of a CRLF, which the cap does not count.
    if (!this.discarding && this.carryBytes + n <= this.maxLineBytes + 1) {
      // A copy: the stream may reuse its buffer, and a slice would pin the whole chunk.
      this.carry.push(Buffer.from(buf.subarray(from)));
      this.carryBytes += n;
    } else {
      this.discard(buf, from, buf.length);
    }
  }

  /** Counts buf[from, to) into an over-long line, keeping bytes only while its head is short. */
  private discard(buf: Buffer, from: number, to: number): void {
    if (!this.discarding) {
      this.discarding = true;
      this.discardHead = this.carry;
      this.discardHeadBytes = this.carryBytes;
      this.discardBytes = this.carryBytes;
      this.carry = [];
      this.carryBytes = 0;
    }
    const room = this.prefixBytes - this.discardHeadBytes;
    if (room > 0) {
      const piece = Buffer.from(buf.subarray(from, Math.min(to, from + room)));
      this.discardHead.push(piece);
      this.discardHeadBytes += piece.length;
    }
    this.discardBytes += to - from;
  }

  /** The kept head of an over-long line, decoded (a character cut at the end becomes U+FFFD). */
  private headText(): string {
    const head = Buffer.concat(this.discardHead, this.discardHeadBytes);
    return head.toString('utf8', 0, Math.min(head.length, this.prefixBytes));
  }

  private resetCarry(): void {
    this.carry = [];
    this.carryBytes = 0;
    this.discarding = false;
    this.discardHead = [];
    this.discardHeadBytes = 0;
    this.discardBytes = 0;
  }
}

/** Decodes a whole line's bytes, dropping a CR before the (already removed) LF. */
function decodeLine(bytes: Buffer): string {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
  return bytes.toString('utf8', 0, end);
}
