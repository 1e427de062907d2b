import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTOR_SETTINGS, detectorSettings } from '../../../services/detector/index.js';

describe('detectorSettings', () => {
  it('fills defaults and freezes the result', () => {
    const s = detectorSettings({ groupId: 'g', once: true });
    expect(s).toMatchObject({ ...DEFAULT_DETECTOR_SETTINGS, groupId: 'g', once: true });
    expect(Object.isFrozen(s)).toBe(true);
  });

  it.each([
    [{ nope: 1 }, /unknown setting "nope"/],
    [{ maxBytes: -1 }, /maxBytes is -1; expected a positive integer/],
    [{ once: 'yes' }, /once is "yes"; expected a boolean/],
    [{ groupId: ' ' }, /groupId is empty/],
  ])('refuses %j', (given, message) => {
    expect(() => detectorSettings(given as never)).toThrow(message);
  });
});
