// Log profiles: validated with every problem named by its path, built on the writer's own
// profile, and refused whole when anything is wrong.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtInProfile, parseProfile, withSquidLogformat, WRITER_FORMATS } from '../../../../services/core/parse/index.js';
import { LeakscopeError } from '../../../../services/core/errors.js';
import { readProfileFile } from '../../../../services/files/index.js';

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(LeakscopeError);
    expect((err as LeakscopeError).code).toBe('CONFIG_INVALID');
    return [...(err as LeakscopeError).problems];
  }
  throw new Error('expected the profile to be refused');
}

describe('parseProfile', () => {
  it('builds on the writer\'s profile: fields lower-cased, targets normalised, rules added to the writer\'s own', () => {
    const p = parseProfile({
      format: 'squid',
      fields: { '%UN': 'MSISDN', 'X-Sub': 'header:X-MSISDN', 'x-ua': 'client_header:User-Agent', 'x-junk': 'ignore' },
      not_forwarded: [{ field: 'X-Verdict', values: ['blocked'] }],
    }, 'p.yaml');
    expect(p.syntax).toBe('squid');
    expect(p.fields).toEqual({ '%un': 'msisdn', 'x-sub': 'header:x-msisdn', 'x-ua': 'client_header:user-agent', 'x-junk': 'ignore' });
    expect(p.notForwarded).toEqual([...builtInProfile('squid').notForwarded, { field: 'x-verdict', values: ['BLOCKED'] }]);
    expect(p.name).toBe('p.yaml');
    expect(Object.isFrozen(p)).toBe(true);
  });

  it('names every problem of a bad profile by its path', () => {
    const problems = problemsOf(() => parseProfile({
      format: 'csv',
      colour: 'blue',
      delimiter: ';;',
      plus_is_space: 'yes',
      squid_logformat: '%ts',
      fields: { Subscriber: 'msisdn2', Hdr: 'header:bad name', Other: 'cookie:x' },
      not_forwarded: [{ field: 'Action' }, { field: 'A', values: [] }],
    }, 'bad.yaml'));
    expect(problems).toEqual(expect.arrayContaining([
      '(root): unknown key "colour"',
      'delimiter: must NOT have more than 1 characters',
      'plus_is_space: must be boolean',
      'not_forwarded[0]: missing key "values"',
      'not_forwarded[1].values: must NOT have fewer than 1 items',
    ]));
    expect(problems).toHaveLength(5);
  });

  it('names every problem the schema cannot see: unknown targets, header names, keys of another format, a bad logformat', () => {
    const problems = problemsOf(() => parseProfile({
      format: 'w3c',
      delimiter: ';',
      time_format: 'epoch_s',
      squid_logformat: '%ts',
      fields: { 'cs-username': 'msisdn2', 'x-h': 'header:bad name', 'x-c': 'cookie:x' },
    }, 'bad.yaml'));
    expect(problems).toEqual([
      'fields["cs-username"]: "msisdn2" is not a leakscope field: expected one of ts, date, time, msisdn, gateway_id, request_id, bearer, client_ip, method, scheme, host, port, path, query, url, status, bytes, ignore, header:NAME, client_header:NAME',
      'fields["x-h"]: "header:bad name": "bad name" is not a header name',
      'fields["x-c"]: "cookie:x": expected header:NAME or client_header:NAME',
      'delimiter: only for csv and tsv, not w3c',
      'squid_logformat: only for squid, not w3c',
      'time_format: W3C logs write their time as date and time fields',
    ]);
  });

  it('refuses an unknown format and names the choices', () => {
    expect(problemsOf(() => parseProfile({ format: 'apache' }, 'x'))).toEqual([`format: expected one of ${WRITER_FORMATS.join(', ')}`]);
    expect(problemsOf(() => parseProfile({}, 'x'))).toEqual(['(root): missing key "format"']);
    expect(problemsOf(() => parseProfile('csv', 'x'))).toEqual(['(root): must be object']);
  });

  it('refuses a Squid logformat that cannot be read back', () => {
    expect(problemsOf(() => parseProfile({ format: 'squid', squid_logformat: '%ts%>a' }, 'x')))
      .toEqual(['squid_logformat: %>a at column 4 follows the previous code with nothing between them, so their values cannot be told apart']);
    expect(problemsOf(() => parseProfile({ format: 'squid', squid_logformat: '%{X-A >h' }, 'x'))).toEqual(['squid_logformat: unterminated {argument} at column 1']);
    expect(() => withSquidLogformat(builtInProfile('csv'), '%ts')).toThrow(/applies to squid logs/);
    expect(withSquidLogformat(builtInProfile('squid'), '%ts %ru').squidLogformat).toBe('%ts %ru');
  });
});

describe('readProfileFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'leakscope-profile-'));
  function file(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  it('reads YAML and names problems with the file', async () => {
    const p = await readProfileFile(file('ok.yaml', 'format: iis\nfields:\n  cs-username: msisdn\n'));
    expect([p.syntax, p.plusIsSpace, p.fields['cs-username']]).toEqual(['w3c', true, 'msisdn']);
    await expect(readProfileFile(file('bad.yaml', 'format: iis\nfields: [\n'))).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('bad.yaml') });
    await expect(readProfileFile(file('dup.yaml', 'format: iis\nformat: csv\n'))).rejects.toMatchObject({ code: 'CONFIG_INVALID', problems: [expect.stringContaining('line 2')] });
    await expect(readProfileFile(join(dir, 'missing.yaml'))).rejects.toMatchObject({ code: 'INPUT_UNREADABLE', message: expect.stringContaining('no such file') });
  });
});
