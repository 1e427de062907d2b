// report --format json (CLI and API alike) writes control and bidi characters as JSON escapes
// (issue 7, item 10): nothing raw reaches a terminal or a viewer, and the object reads back unchanged.
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../services/cli/commands/report.js';
import { renderJson } from '../../../services/render/index.js';
import { buildReport } from '../../../services/store/index.js';
import { AGGREGATES, LEAK_WINDOW } from './fixtures.js';

const HOSTILE = ['evil\u001b[2J\u0000.example', 'x\u202egnp.example', 'a\u009d0;t\u009cb', 'c\r\u2028d'];

describe('report --format json', () => {
  const report = buildReport(LEAK_WINDOW, {
    ...AGGREGATES,
    sites: [{ ...AGGREGATES.sites[0]!, site: HOSTILE[1]!, hosts: HOSTILE, identifiers: HOSTILE.map((h) => `header:${h}`) }],
  });

  it('carries no raw control or bidi character, and parses back to the same report', () => {
    const text = renderReport(report, 'json', {});
    expect(text.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e\u2028]/);
    expect(text).toContain('x\\u202egnp.example');
    expect(text).toContain('evil\\u001b[2J\\u0000.example');
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(report)));
  });

  it('is the same text renderJson gives, pretty-printed with one trailing newline', () => {
    const text = renderReport(report, 'json', {});
    expect(text).toBe(renderJson(report));
    expect(text.endsWith('}\n') && !text.endsWith('\n\n')).toBe(true);
    expect(text.split('\n')[1]).toMatch(/^ {2}"window"/);
  });
});
