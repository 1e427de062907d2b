// The Avro primitives written without avsc give avsc's bytes, for every value they take.
import avsc from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringBytes, writeLong, writeNullableLong, writeNullableString, writeString } from '../../../services/avro/binary-writer.js';

const LONG = avsc.Type.forSchema('long');
const STRING = avsc.Type.forSchema('string');
const NULLABLE_LONG = avsc.Type.forSchema(['null', 'long'], { wrapUnions: false });
const NULLABLE_STRING = avsc.Type.forSchema(['null', 'string'], { wrapUnions: false });

function written(write: (buf: Buffer, pos: number) => number): string {
  const buf = Buffer.alloc(4096, 0xee);
  const end = write(buf, 3);
  return buf.subarray(3, end).toString('hex');
}

describe('the Avro binary writer', () => {
  it('writes a non-negative long as avsc does, up to 2^53 - 2', () => {
    for (const n of [0, 1, 63, 64, 127, 128, 2 ** 31 - 1, 2 ** 31, 2 ** 53 - 2]) expect(written((b, p) => writeLong(b, p, n))).toBe(LONG.toBuffer(n).toString('hex'));
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 53 - 2 }), (n) => written((b, p) => writeLong(b, p, n)) === LONG.toBuffer(n).toString('hex')));
  });

  it('writes strings as avsc does: short ASCII, long, and any UTF-8', () => {
    for (const s of ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(2000), 'ü', 'straße', '😀 ü', `${'a'.repeat(30)}ü`]) {
      expect(written((b, p) => writeString(b, p, s))).toBe(STRING.toBuffer(s).toString('hex'));
      expect(stringBytes(s).toString('hex')).toBe(STRING.toBuffer(s).toString('hex'));
    }
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => written((b, p) => writeString(b, p, s)) === STRING.toBuffer(s).toString('hex')));
  });

  it('writes unions of null and long or string as avsc does', () => {
    for (const n of [null, 0, 5, 2 ** 40]) expect(written((b, p) => writeNullableLong(b, p, n))).toBe(NULLABLE_LONG.toBuffer(n).toString('hex'));
    for (const s of [null, '', 'gw-lon-01', 'ü']) expect(written((b, p) => writeNullableString(b, p, s))).toBe(NULLABLE_STRING.toBuffer(s).toString('hex'));
  });
});
