// Avro's binary primitives written straight into a Buffer, for writers that skip avsc on a hot
// path (the shipper's NDJSON writer): each takes the buffer and a position and returns the
// position after what it wrote. The caller makes room first; nothing here checks bounds.
// The bytes are avsc's (a test of the writer compares them with the codec's on every shape).

/** Strings up to this length are written in JavaScript; zig-zag lengths of at most 2 × 31 fit one byte. */
const SHORT_STRING = 31;

/** Avro's zig-zag varint of a non-negative safe integer at `pos`. */
export function writeLong(buf: Buffer, pos: number, n: number): number {
  let z = n * 2;
  while (z >= 128) {
    buf[pos++] = (z % 128) | 128;
    z = Math.floor(z / 128);
  }
  buf[pos++] = z;
  return pos;
}

/** An Avro string: its UTF-8 length, then its bytes. */
export function writeString(buf: Buffer, pos: number, s: string): number {
  if (s.length <= SHORT_STRING) {
    // Short and ASCII (the usual): byte by byte, no call into C++.
    let at = pos + 1;
    let ascii = true;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      buf[at++] = c;
    }
    if (ascii) {
      buf[pos] = s.length * 2; // the zig-zag length, one byte below 64
      return at;
    }
  }
  const start = writeLong(buf, pos, Buffer.byteLength(s, 'utf8'));
  return start + buf.write(s, start, 'utf8');
}

/** A union of null (branch 0) and long (branch 1). */
export function writeNullableLong(buf: Buffer, pos: number, n: number | null): number {
  if (n === null) {
    buf[pos] = 0;
    return pos + 1;
  }
  buf[pos] = 2;
  return writeLong(buf, pos + 1, n);
}

/** A union of null (branch 0) and string (branch 1). */
export function writeNullableString(buf: Buffer, pos: number, s: string | null): number {
  if (s === null) {
    buf[pos] = 0;
    return pos + 1;
  }
  buf[pos] = 2;
  return writeString(buf, pos + 1, s);
}

/** A string's Avro bytes (length and UTF-8) in a buffer of their own, for bytes written again and again (header names). */
export function stringBytes(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  const length = Buffer.allocUnsafe(10);
  const end = writeLong(length, 0, body.length);
  return Buffer.concat([length.subarray(0, end), body]);
}
