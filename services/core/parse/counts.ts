// The bounds of a request's counts, shared by every format's reader: a status or a byte count
// the Avro GatewayRequest cannot hold (status is an int; avsc writes longs only up to
// 2^53 − 2) would make the shipper's encoding throw mid-run, so such a line is a reject.

/** The largest `status`: Avro's int. */
export const STATUS_MAX = 2 ** 31 - 1;
/** The largest `bytes` (and any count): the largest long avsc writes exactly. */
export const COUNT_MAX = 2 ** 53 - 2;

/**
 * A count written as ASCII digits (W3C `sc-status`, `sc-bytes`, a CSV or Squid column): the
 * number, null for an absent value, or the reject's reason, naming the field, when it is not
 * digits or is above `max`.
 */
export function readCount(value: string | null, field: string, max: number): number | null | string {
  if (value === null) return null;
  // 16 digits hold every count up to COUNT_MAX; a longer value is above any bound.
  if (value.length === 0 || value.length > 16) return countReason(value, field, max);
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return `${field}: ${JSON.stringify(value)} is not a non-negative integer`;
    n = n * 10 + d;
  }
  return n <= max ? n : countReason(value, field, max);
}

function countReason(value: string, field: string, max: number): string {
  return /^[0-9]+$/.test(value)
    ? `${field}: ${value} is above ${max}, the largest the Avro GatewayRequest holds`
    : `${field}: ${JSON.stringify(value)} is not a non-negative integer`;
}
