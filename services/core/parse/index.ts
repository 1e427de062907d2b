// Parsing gateway access logs (NDJSON and W3C extended) into GatewayRequest records. Pure:
// a line of text in, a request, a reject reason or a skip out; no I/O, clock or logging.
export { parseNdjsonLine } from './ndjson.js';
export { createW3cParser, type W3cParser } from './w3c.js';
export { createLineParser, detectFormat, type LineParser } from './line-parser.js';
