// The reason a lookup is made, as the audit keeps it. It is free text typed by a person, so it
// is checked before anything is looked up: required, bounded, one line, and without a phone
// number (a reason such as "caller +44 7700 900123" would put the number in the audit, which
// must never hold one).
import { firstNumberIn } from '../core/detect/index.js';
import { LeakscopeError } from '../core/errors.js';

export const MAX_REASON_LENGTH = 500;

// Control characters (newlines included): a reason is one line of an audit listing.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** The reason, trimmed; refused with a USAGE error saying why. `region` reads national numbers. */
export function checkReason(value: string | undefined, region: string, where = 'reason'): string {
  const reason = value?.trim() ?? '';
  if (reason === '') throw new LeakscopeError('USAGE', `${where} is required: say why this lookup is made (e.g. a ticket id); it is kept in the audit`);
  if (reason.length > MAX_REASON_LENGTH) throw new LeakscopeError('USAGE', `${where} is ${reason.length} characters long; at most ${MAX_REASON_LENGTH}`);
  if (CONTROL.test(reason)) throw new LeakscopeError('USAGE', `${where} must be one line of text, without control characters`);
  if (firstNumberIn(reason, region) !== null) {
    throw new LeakscopeError('USAGE', `${where} must not hold a phone number (the audit never keeps one); refer to the case by its ticket id`);
  }
  return reason;
}
