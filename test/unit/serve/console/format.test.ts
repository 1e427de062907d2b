// The console's time fields: UTC text as the CLI takes it, refused (null) when a browser's Date
// would silently roll it over, and written back the same way.
import { describe, expect, it } from 'vitest';
import { fromInput, toInput } from '../../../../services/serve/console/client/format.js';

describe('console time fields', () => {
  it.each([
    ['2012-01-10', '2012-01-10T00:00:00.000Z'],
    ['2012-01-10 09:30', '2012-01-10T09:30:00.000Z'],
    ['2012-01-10T09:30:15Z', '2012-01-10T09:30:15.000Z'],
    [' 2012-01-25 14:00 UTC ', '2012-01-25T14:00:00.000Z'],
  ])('reads %j as %s (UTC)', (text, iso) => {
    expect(fromInput(text)).toBe(iso);
  });

  it.each(['', '10/01/2012', '2012-02-30', '2012-01-10 25:00', '2012-01-10 09:60', '2012-01-10 09:30:61', '2012-01-10T09:30+01:00', 'yesterday'])(
    'refuses %j', (text) => {
      expect(fromInput(text)).toBeNull();
    });

  it.each([
    ['2012-01-10T00:00:00.000Z', '2012-01-10'],
    ['2012-01-10T09:30:00.000Z', '2012-01-10 09:30'],
    ['2012-01-10T09:30:15.000Z', '2012-01-10 09:30:15'],
  ])('writes %s as %j, which reads back the same', (iso, text) => {
    expect(toInput(iso)).toBe(text);
    expect(fromInput(toInput(iso))).toBe(iso);
  });
});
