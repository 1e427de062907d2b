// JSON output of report, who-saw, audit and the scan summary, in the CLI and the API alike:
// pretty-printed, one trailing newline, and no control, bidi or invisible character left raw
// (written as JSON escapes, so the value reads back unchanged; core/visible-text.ts).
import { safeJson } from '../core/visible-text.js';

export function renderJson(value: unknown): string {
  return safeJson(value, 2) + '\n';
}
