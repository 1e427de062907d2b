// The partner registry: parsing and validating it, normalising hosts and domain patterns,
// and the snapshot every request is matched against. Pure: no I/O, no clock.
export { parseRegistry } from './parse.js';
export { buildSnapshot, HOST_MEMO_LIMIT } from './snapshot.js';
export { normalizeHost, isIpLiteral } from './host.js';
export { parseDomainPattern, patternMatchesHost } from './pattern.js';
export type { DomainPattern, PatternKind, PatternResult } from './pattern.js';
export { BUILTIN_IDENTITY_HEADERS, BUILTIN_IDENTITY_HEADER_NAMES } from './identity-headers.js';
export type { IdentityHeader, IdentityHeaderKind } from './identity-headers.js';
