// Times and windows of API requests, read as the CLI reads --from/--to (same rules, same
// messages, with the field named instead of the flag).
import { parseTime } from '../../cli/time.js';
import { LeakscopeError } from '../../core/errors.js';
import type { Window } from '../../store/types.js';

export function windowOf(from: string | undefined, to: string | undefined): Window {
  const start = from === undefined ? null : parseTime(from, 'from');
  const end = to === undefined ? null : parseTime(to, 'to');
  if (start !== null && end !== null && start >= end) {
    throw new LeakscopeError('TIME_INVALID', `from ${JSON.stringify(from)} is not before to ${JSON.stringify(to)}: a window is [from, to)`);
  }
  return { from: start, to: end };
}

export function requiredWindowOf(from: string, to: string): { from: number; to: number } {
  const w = windowOf(from, to);
  return { from: w.from!, to: w.to! };
}
