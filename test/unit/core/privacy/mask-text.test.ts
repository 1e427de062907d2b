import { describe, expect, it } from 'vitest';
import { maskNumberInText } from '../../../../services/core/privacy/index.js';

const spellings = ['447700900123', '+447700900123', '07700900123', '7700900123', '07700 900123'];

describe('maskNumberInText', () => {
  it.each([
    ['id=1&msisdn=447700900123', 'id=1&msisdn=4477009****23'],
    ['n=%2B447700900123', 'n=%2B4477009****23'],
    ['n=+447700900123&x=1', 'n=+4477009****23&x=1'],
    ['tel=07700900123', 'tel=077009****23'],
    ['tel=07700+900123', 'tel=077009****23'],
    ['tel=07700%20900123', 'tel=077009****23'],
    ['a=7700900123;b=447700900123', 'a=77009****23;b=4477009****23'],
    ['id=1', 'id=1'],
    ['', ''],
  ])('masks %j as %j', (text, masked) => {
    expect(maskNumberInText(text, spellings)).toBe(masked);
  });

  it('returns the same string when nothing matches', () => {
    const text = 'q=hello&page=2';
    expect(maskNumberInText(text, spellings)).toBe(text);
  });

  it('ignores empty spellings and spellings without digits', () => {
    expect(maskNumberInText('abc', ['', 'b'])).toBe('abc');
    expect(maskNumberInText('abc', [])).toBe('abc');
  });

  it('leaves no spelling of the number behind', () => {
    const text = spellings.map((s, i) => `k${i}=${encodeURIComponent(s)}`).join('&') + '&raw=' + spellings.join('|');
    const masked = maskNumberInText(text, spellings);
    for (const s of spellings) expect(masked).not.toContain(s);
    expect(masked).not.toContain('900123');
  });
});
