// Parsing gateway access logs (NDJSON, W3C extended, Squid, CSV/TSV) into GatewayRequest
// records. Pure: a line of text in, a request, a reject reason, a skip or "not forwarded"
// out; no I/O, clock or logging.
export { parseNdjsonLine } from './ndjson.js';
export { createW3cParser, type W3cParser } from './w3c.js';
export { createSquidParser } from './squid.js';
export { createCsvParser } from './csv.js';
export { createLineParser, detectFormat, type LineParser } from './line-parser.js';
export {
  builtInProfile, isWriterFormat, withSquidLogformat, WRITER_FORMATS,
  type LogProfile, type NotForwardedRule, type WriterFormat,
} from './profile.js';
export { parseProfile } from './profile-schema.js';
export { parseSquidLogformat, SQUID_NATIVE_LOGFORMAT } from './squid-logformat.js';
