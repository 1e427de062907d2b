import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { LeakscopeError } from '../../../services/core/errors.js';
import { validateConfig } from '../../../services/config/index.js';

const Schema = Type.Object({
  flushIntervalMs: Type.Integer({ minimum: 1, default: 500 }),
  name: Type.String({ minLength: 1, default: 'x' }),
  brokers: Type.Array(Type.String({ pattern: '^[^\\s:/]+:\\d{1,5}$', expected: 'host:port' }), { minItems: 1, default: ['h:1'] }),
  mode: Type.Union([Type.Literal('a'), Type.Literal('b')], { default: 'a' }),
  nested: Type.Optional(Type.Object({ depthBytes: Type.Integer({ minimum: 0, maximum: 10 }) }, { additionalProperties: false })),
}, { additionalProperties: false });

function refusal(value: unknown): LeakscopeError {
  try {
    validateConfig(Schema, value, { where: 'test' });
  } catch (error) {
    if (error instanceof LeakscopeError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('validateConfig', () => {
  it('fills defaults from the schema and freezes the result, nested values too', () => {
    const c = validateConfig(Schema, { nested: { depthBytes: 3 } }, { where: 'test' });
    expect(c).toEqual({ flushIntervalMs: 500, name: 'x', brokers: ['h:1'], mode: 'a', nested: { depthBytes: 3 } });
    expect(Object.isFrozen(c) && Object.isFrozen(c.brokers) && Object.isFrozen(c.nested)).toBe(true);
  });

  it('names every problem at once: the key, the value and what was expected', () => {
    const e = refusal({ flushIntervalMs: 0, name: '', brokers: ['h:1', 'nope'], nested: { depthBytes: 11, extra: 1 }, typo: true });
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.problems).toEqual(expect.arrayContaining([
      'flushIntervalMs is 0: expected at least 1',
      'name is "": expected a non-empty value',
      'brokers[1] is "nope": expected host:port',
      'nested.depthBytes is 11: expected a whole number from 0 to 10',
      'nested.extra: unknown key; expected one of depthBytes',
      'typo: unknown key; expected one of flushIntervalMs, name, brokers, mode, nested',
    ]));
    expect(e.problems).toHaveLength(6);
    expect(e.message).toMatch(/^test: 6 problems: /);
  });

  it('puts a single problem in the message itself', () => {
    const e = refusal({ flushIntervalMs: 'soon' });
    expect(e.message).toBe('test: flushIntervalMs is "soon": expected a whole number of at least 1');
    expect(e.problems).toEqual([]);
  });

  it('refuses a value outside a union, and a missing required key', () => {
    expect(refusal({ mode: 'c' }).message).toContain('mode is "c"');
    const Required = Type.Object({ url: Type.String() }, { additionalProperties: false });
    expect(() => validateConfig(Required, {}, { where: 'r' })).toThrow('r: url: missing');
  });
});
