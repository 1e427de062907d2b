import { describe, expect, it } from 'vitest';
import { LeakscopeError } from '../../../services/core/errors.js';
import { parseCommandFlags, parseEnumFlag, parseIntegerFlag } from '../../../services/cli/flags.js';
import { parseFlags } from '../../../services/cli/command.js';
import { parseMetricsPort } from '../../../services/observability/index.js';
import { main } from '../../../services/cli/main.js';
import { Writable } from 'node:stream';

const FLAGS = {
  format: { type: 'string', enum: ['auto', 'ndjson', 'w3c'], default: 'auto' },
  workers: { type: 'integer', minimum: 0, maximum: 256 },
  'poll-ms': { type: 'integer', minimum: 1, default: 500 },
  db: { type: 'string', nonEmpty: true },
  json: { type: 'boolean' },
} as const;

function refusal(fn: () => unknown): LeakscopeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof LeakscopeError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('parseCommandFlags', () => {
  it('gives typed values with the declared defaults, frozen', () => {
    const { values, positionals } = parseCommandFlags('scan', ['--workers', '3', 'a.log', '--json'], FLAGS);
    expect(values).toEqual({ format: 'auto', workers: 3, 'poll-ms': 500, json: true });
    expect(positionals).toEqual(['a.log']);
    expect(Object.isFrozen(values)).toBe(true);
  });

  it('names every bad value at once, each by its flag, with what was expected', () => {
    const e = refusal(() => parseCommandFlags('scan', ['--format', 'csv', '--workers', '300', '--poll-ms', '0', '--db', ' '], FLAGS));
    expect(e.code).toBe('USAGE');
    expect(e.message).toMatch(/^scan: 4 problems: /);
    expect(e.problems).toEqual(expect.arrayContaining([
      '--format "csv": expected one of auto, ndjson, w3c',
      '--workers "300": expected a whole number from 0 to 256',
      '--poll-ms "0": expected at least 1',
      '--db "": expected a non-empty value',
    ]));
  });

  it.each(['0x10', '1e3', '1.5', 'many', '', '٣'])('takes integers in decimal digits only, not %j', (text) => {
    expect(refusal(() => parseCommandFlags('scan', ['--workers', text], FLAGS)).message).toContain('--workers');
  });

  it('refuses an unknown flag and a value given to a boolean, naming the command', () => {
    expect(refusal(() => parseCommandFlags('scan', ['--nope'], FLAGS)).message).toMatch(/^scan: Unknown option '--nope'.*leakscope scan --help/);
    expect(refusal(() => parseCommandFlags('scan', ['--json=yes'], FLAGS)).code).toBe('USAGE');
  });
});

describe('the helpers kept for older callers', () => {
  it('parseFlags reads the syntax alone, as before', () => {
    expect(parseFlags('x', ['--a', '1'], { a: { type: 'string' } }).values).toEqual({ a: '1' });
  });

  it('parseIntegerFlag, parseEnumFlag and parseMetricsPort check as the declared flags do', () => {
    expect(parseIntegerFlag('12', '--lookups-per-minute', { minimum: 1 })).toBe(12);
    expect(parseIntegerFlag(undefined, '--lookups-per-minute', { minimum: 1, default: 30 })).toBe(30);
    expect(() => parseIntegerFlag('0', '--lookups-per-minute', { minimum: 1 })).toThrow('--lookups-per-minute "0": expected at least 1');
    expect(parseEnumFlag(undefined, '--format', ['table', 'json'], 'table')).toBe('table');
    expect(() => parseEnumFlag('xml', '--format', ['table', 'json'], 'table')).toThrow('--format "xml": expected one of table, json');
    expect(parseMetricsPort(undefined)).toBe(0);
    expect(parseMetricsPort('9464')).toBe(9464);
    expect(() => parseMetricsPort('65536')).toThrow(/--metrics-port "65536": expected a whole number from 0 to 65535/);
  });
});

describe('every command', () => {
  it.each([
    ['scan', ['--workers', 'x', '--format', 'pdf', 'a.log']],
    ['ship', ['--poll-ms=-1', '--batch-lines', '0', '--metrics-port', 'http', 'a.log']],
    ['detect', ['--concurrency', '0', '--spread-window-ms', '1.5', '--metrics-port', '70000', '--fetch-min-bytes', '0', '--fetch-max-wait-ms', 'x']],
    ['report', ['--format', 'pdf', '--from', '2012-01-10', '--to', '2012-01-11']],
    ['who-saw', ['--format', 'html', '+447700900123']],
    ['serve', ['--lookups-per-minute', '0']],
    ['notify', ['--session-timeout-ms', '2999', '--metrics-port=-1', '--group', ' ']],
    ['watch', ['--poll-ms', '0', '--spread-sites', 'x', '--spread-window-ms', '1.5', '--spread-quiet-ms=-3', '--format', 'pdf', 'logs']],
    ['users add', ['--role', 'root', 'alice']],
    ['audit', ['--format', 'csv']],
  ])('%s names all its bad flag values before doing anything (exit 2)', async (command, args) => {
    let stderr = '';
    const sink = new Writable({ write(chunk, _e, done) { stderr += String(chunk); done(); } });
    const code = await main([...command.split(' '), ...args], { stdout: sink, stderr: sink, stdin: process.stdin, env: {}, cwd: '/nonexistent' });
    expect(code).toBe(2);
    const named = args.filter((a) => a.startsWith('--') && !['--from', '--to'].includes(a)).map((a) => a.split('=')[0]!);
    for (const flag of named) expect(stderr).toContain(`${flag} "`);
  });
});
