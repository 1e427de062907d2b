// Avro adapter: single-object encoding with schema resolution, and the records of schemas/*.avsc.
export { AvroCodec, DEFAULT_SCHEMAS_DIR, canonicalForm } from './codec.js';
export type { AvroCodecOptions, DecodedMessage, KnownSchema } from './codec.js';
export { crc64Avro, crc64AvroBytes } from './crc64-avro.js';
export {
  SCHEMA_NAMES,
  fromAvroDisclosure,
  fromAvroGatewayRequest,
  fromAvroPartnerRecord,
  toAvroDisclosure,
  toAvroGatewayRequest,
  toAvroPartnerRecords,
} from './records.js';
export type {
  AlertKind,
  AlertStatus,
  AvroDisclosure,
  AvroGatewayRequest,
  AvroHeader,
  AvroLeakAlert,
  AvroPartnerPeriod,
  AvroPartnerRecord,
  AvroRecords,
  PartnerRecordContent,
  SchemaName,
} from './records.js';
export { GatewayRequestReader } from './gateway-request-reader.js';
export { stringBytes, writeLong, writeNullableLong, writeNullableString, writeString } from './binary-writer.js';
