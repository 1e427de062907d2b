// One HTTP attempt of a delivery, and what its outcome means: delivered (2xx), worth retrying
// (408, 429, 5xx, a timeout, a refused or broken connection) or refused for good (any other 4xx,
// a redirect, a URL that cannot be reached by design). The decision is data (`retry`), so the
// route's loop never matches strings.
import type { OutgoingRequest } from './formats.js';

export type AttemptOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'failed'; retry: boolean; reason: string; status: number | null; retryAfterMs: number | null };

export type Post = (request: OutgoingRequest, timeoutMs: number, signal?: AbortSignal) => Promise<AttemptOutcome>;

const RETRYABLE_STATUS = (s: number): boolean => s === 408 || s === 429 || s >= 500;

/** Retry-After in seconds or as an HTTP date, in ms from now; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  if (/^[0-9]+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** POST with Node's fetch; the answer's body is read (at most 64 KiB are kept) so the connection is reused. */
export const postWithFetch: Post = async (request, timeoutMs, signal) => {
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal === undefined ? timeout : AbortSignal.any([timeout, signal]);
  let res: Response;
  try {
    res = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body, redirect: 'manual', signal: combined });
  } catch (err) {
    if (timeout.aborted) return { kind: 'failed', retry: true, reason: `no answer within ${timeoutMs} ms`, status: null, retryAfterMs: null };
    if (signal?.aborted) return { kind: 'failed', retry: true, reason: 'stopped', status: null, retryAfterMs: null };
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { kind: 'failed', retry: true, reason: `connection failed: ${cause?.code ?? cause?.message ?? (err as Error).message}`, status: null, retryAfterMs: null };
  }
  let text = '';
  try {
    text = (await res.text()).slice(0, 65_536);
  } catch {
    // The status decides; a body cut short does not.
  }
  if (res.status >= 200 && res.status < 300) return { kind: 'delivered', status: res.status };
  const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return {
    kind: 'failed',
    retry: RETRYABLE_STATUS(res.status),
    reason: `HTTP ${res.status}${snippet === '' ? '' : `: ${snippet}`}`,
    status: res.status,
    retryAfterMs: retryAfterMs(res.headers.get('retry-after')),
  };
};
