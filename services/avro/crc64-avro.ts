// CRC-64-AVRO (the Rabin fingerprint of the Avro specification, "Schema Fingerprints"), of a
// schema's Parsing Canonical Form. Computed once per schema at start-up, so BigInt is fine.

const EMPTY = 0xc15d213aa4d7a795n;
const MASK64 = 0xffffffffffffffffn;

const TABLE: readonly bigint[] = (() => {
  const table: bigint[] = [];
  for (let i = 0n; i < 256n; i++) {
    let fp = i;
    for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & (-(fp & 1n) & MASK64));
    table.push(fp);
  }
  return table;
})();

/** The 64-bit fingerprint as an unsigned BigInt. */
export function crc64Avro(bytes: Uint8Array): bigint {
  let fp = EMPTY;
  for (const b of bytes) fp = (fp >> 8n) ^ (TABLE[Number((fp ^ BigInt(b)) & 0xffn)] as bigint);
  return fp;
}

/** The fingerprint as single-object encoding writes it: 8 bytes, little-endian. */
export function crc64AvroBytes(canonicalForm: string): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(crc64Avro(Buffer.from(canonicalForm, 'utf8')));
  return out;
}
