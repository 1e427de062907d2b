// The identity of a request, which makes scans idempotent and disclosure ids deterministic:
// `gateway_id:request_id` when the log has both, otherwise a hash of the raw line, so the
// same line read twice (a re-scan, a replayed topic) is the same request.
import { createHash } from 'node:crypto';

/** Hex digits kept of the SHA-256: 128 bits, ample against accidental collisions. */
const HASH_HEX_CHARS = 32;

/** `line` must be the raw record without its line terminator (no trailing CR or LF). */
export function requestKeyOf(gatewayId: string | null, requestId: string | null, line: string): string {
  if (gatewayId !== null && requestId !== null) return `${gatewayId}:${requestId}`;
  return 'h:' + createHash('sha256').update(line, 'utf8').digest('hex').slice(0, HASH_HEX_CHARS);
}
