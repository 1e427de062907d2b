import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTOR_SETTINGS, detectorSettings } from '../../../services/detector/index.js';

describe('detectorSettings', () => {
  it('fills defaults and freezes the result', () => {
    const s = detectorSettings({ groupId: 'g', once: true });
    expect(s).toMatchObject({ ...DEFAULT_DETECTOR_SETTINGS, groupId: 'g', once: true });
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('bounds stopping by a drain time of 10 s unless told otherwise', () => {
    expect(detectorSettings().drainTimeoutMs).toBe(10_000);
    expect(detectorSettings({ drainTimeoutMs: 2500 }).drainTimeoutMs).toBe(2500);
  });

  it.each([
    [{ nope: 1 }, /unknown setting "nope"/],
    [{ maxBytes: -1 }, /maxBytes is -1; expected a positive integer/],
    [{ once: 'yes' }, /once is "yes"; expected a boolean/],
    [{ groupId: ' ' }, /groupId is empty/],
    [{ drainTimeoutMs: 0 }, /drainTimeoutMs is 0; expected a positive integer/],
  ])('refuses %j', (given, message) => {
    expect(() => detectorSettings(given as never)).toThrow(message);
  });
});
