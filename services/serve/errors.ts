// API errors: every failure answers `{"error": {"code", "message"}}` with the status its
// LeakscopeError code calls for. Messages of store faults are not passed on verbatim (they
// may name files and servers); the log has them.
import type { FastifyError } from 'fastify';
import { LeakscopeError, type ErrorCode } from '../core/errors.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  USAGE: 400, TIME_INVALID: 400, NUMBER_INVALID: 400, CONFIG_INVALID: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  STORE_FAILED: 503, AUDIT_FAILED: 503, KEY_INVALID: 503, INPUT_UNREADABLE: 503,
};

export interface ApiError {
  status: number;
  code: ErrorCode;
  message: string;
  /** Why it was refused, for the refusals metric. */
  reason: string;
}

/** What to answer for an error thrown anywhere in a request. */
export function apiErrorOf(error: unknown): ApiError {
  if (error instanceof LeakscopeError) {
    const status = STATUS[error.code] ?? 500;
    const message = status === 503
      ? `the store is unavailable (${error.code === 'AUDIT_FAILED' ? 'the audit entry could not be written, so no answer is given' : 'see the service log'}); try again later`
      : status === 500 ? 'internal error; see the service log' : error.message;
    return { status, code: error.code, message, reason: error.code.toLowerCase() };
  }
  const fastifyError = error as FastifyError & { validation?: unknown; validationContext?: string };
  if (fastifyError?.validation !== undefined) {
    return { status: 400, code: 'USAGE', message: fastifyError.message, reason: 'bad_request' };
  }
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // fastify's own refusals: an unparseable JSON body, a wrong content type, a body too large.
    return { status, code: 'USAGE', message: fastifyError.message, reason: 'bad_request' };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error; see the service log', reason: 'internal' };
}

export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}
