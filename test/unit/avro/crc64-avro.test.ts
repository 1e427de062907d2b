import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalForm, crc64Avro, crc64AvroBytes } from '../../../services/avro/index.js';

// Input schema, its Parsing Canonical Form, and its CRC-64-AVRO fingerprint as a signed 64-bit
// integer: the Apache Avro project's published vectors (share/test/data/schema-tests.txt).
const SPEC_VECTORS: ReadonlyArray<[string, string, bigint]> = [
  ['"null"', '"null"', 7195948357588979594n],
  ['{"type":"null"}', '"null"', 7195948357588979594n],
  ['"boolean"', '"boolean"', -6970731678124411036n],
  ['"int"', '"int"', 8247732601305521295n],
  ['{"type":"int"}', '"int"', 8247732601305521295n],
  ['"long"', '"long"', -3434872931120570953n],
  ['"double"', '"double"', -8181574048448539266n],
  ['"bytes"', '"bytes"', 5746618253357095269n],
  ['"string"', '"string"', -8142146995180207161n],
  ['["int"]', '["int"]', -5232228896498058493n],
  ['[ "int" , {"type":"boolean"} ]', '["int","boolean"]', 5392556393470105090n],
  ['{"fields":[], "type":"record", "name":"foo", "doc":"foo", "aliases":["foo","bar"]}', '{"name":"foo","type":"record","fields":[]}', -4824392279771201922n],
  ['{"fields":[{"type":{"type":"boolean"}, "name":"f1"}], "type":"record", "name":"foo"}', '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}', 7843277075252814651n],
  [
    '{ "fields":[{"type":"boolean", "aliases":[], "name":"f1", "default":true},{"order":"descending","name":"f2","doc":"Hello","type":"int"}],"type":"record", "name":"foo"}',
    '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}',
    -4860222112080293046n,
  ],
  ['{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", "symbols":["A1", "A2"]}', '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}', -4448647247586288245n],
  ['{"name":"foo","type":"fixed","size":15}', '{"name":"foo","type":"fixed","size":15}', 1756455273707447556n],
  ['{"namespace":"x.y.z", "type":"fixed", "name":"foo", "doc":"foo bar", "size":32}', '{"name":"x.y.z.foo","type":"fixed","size":32}', -3064184465700546786n],
  ['{ "items":{"type":"null"}, "type":"array"}', '{"type":"array","items":"null"}', -589620603366471059n],
  ['{ "values":"string", "type":"map"}', '{"type":"map","values":"string"}', -8732877298790414990n],
  [
    '{"name":"PigValue","type":"record", "fields":[{"name":"value", "type":["null", "int", "long", "PigValue"]}]}',
    '{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}',
    -1759257747318642341n,
  ],
];

const EMPTY = 0xc15d213aa4d7a795n;

/** Straight from the spec's definition, bit by bit, no table. */
function referenceCrc64(bytes: Uint8Array): bigint {
  let fp = EMPTY;
  for (const b of bytes) {
    fp ^= BigInt(b);
    for (let i = 0; i < 8; i++) fp = (fp >> 1n) ^ ((fp & 1n) === 1n ? EMPTY : 0n);
  }
  return fp;
}

describe('CRC-64-AVRO', () => {
  it.each(SPEC_VECTORS)('fingerprints %s as the spec says', (input, canonical, signed) => {
    const type = avro.Type.forSchema(JSON.parse(input));
    expect(canonicalForm(type)).toBe(canonical);
    expect(crc64Avro(Buffer.from(canonical))).toBe(BigInt.asUintN(64, signed));
  });

  it('writes the fingerprint little-endian, as single-object encoding does', () => {
    // The spec's example: the header of "int" messages is C3 01 8F 5C 39 3F 1A D5 75 72.
    expect(crc64AvroBytes('"int"').toString('hex')).toBe('8f5c393f1ad57572');
  });

  it('agrees with a bitwise reference implementation on any input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => crc64Avro(bytes) === referenceCrc64(bytes)),
    );
  });
});
