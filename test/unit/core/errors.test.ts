import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, INPUT_ERROR_CODES, LeakscopeError } from '../../../services/core/errors.js';

const doc = readFileSync(join(import.meta.dirname, '../../../docs/errors.md'), 'utf8');
const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| ([12]) \|/gm)].map((m) => ({ code: m[1]!, exit: Number(m[2]) }));

describe('error codes', () => {
  it('are documented in docs/errors.md, each once, in the order of the code list', () => {
    expect(rows.map((r) => r.code)).toEqual([...ERROR_CODES]);
  });

  it('document the exit code the CLI gives for each', () => {
    for (const { code, exit } of rows) expect([code, exit]).toEqual([code, INPUT_ERROR_CODES.has(code as never) ? 2 : 1]);
  });

  it('carry code, problems, retryable and cause', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new LeakscopeError('STORE_FAILED', 'ClickHouse refused the insert', { cause, retryable: true, problems: ['a'] });
    expect([err.code, err.retryable, err.problems, err.cause, err.name]).toEqual(['STORE_FAILED', true, ['a'], cause, 'LeakscopeError']);
    expect(new LeakscopeError('USAGE', 'x').retryable).toBe(false);
  });
});
