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
    [{ nope: 1 }, /detector: nope: unknown key; expected one of groupId, once, /],
    [{ maxBytes: -1 }, /maxBytes is -1: expected at least 1/],
    [{ spreadWindowMs: 1.5 }, /spreadWindowMs is 1.5: expected a whole number of at least 1/],
    [{ once: 'yes' }, /once is "yes": expected a boolean/],
    [{ groupId: ' ' }, /groupId is " ": expected a consumer group id \(not blank\)/],
    [{ drainTimeoutMs: 0 }, /drainTimeoutMs is 0: expected at least 1/],
  ])('refuses %j', (given, message) => {
    expect(() => detectorSettings(given as never)).toThrow(message);
  });

  it('names every bad setting at once, as CONFIG_INVALID', () => {
    try {
      detectorSettings({ maxBytes: 0, retryMaxMs: -5, typo: true } as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
      expect((error as { problems: string[] }).problems).toHaveLength(3);
    }
  });
});
