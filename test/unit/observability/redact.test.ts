import { describe, expect, it } from 'vitest';
import { redactNumbers } from '../../../services/observability/index.js';

describe('redactNumbers', () => {
  it.each([
    ['url: port "447700900123" is not a number 0-65535', 'url: port "<digits>" is not a number 0-65535'],
    ['cs-host: port "+44 7700 900-123"', 'cs-host: port "<digits>"'],
    ['date: "07700900123" is not a date', 'date: "<digits>" is not a date'],
    ['18 values for the 4 fields declared by #Fields', '18 values for the 4 fields declared by #Fields'],
    ['port "70000" is not a number 0-65535', 'port "70000" is not a number 0-65535'],
  ])('logs %j as %j', (reason, logged) => {
    expect(redactNumbers(reason)).toBe(logged);
  });
});
