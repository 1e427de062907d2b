// The systemd units of deploy/systemd: each passes `systemd-analyze verify` (with the CLI at
// this checkout's bin/ in place of /usr/local/bin/leakscope), carries the hardening the
// README promises, and scores as "OK" in `systemd-analyze security`'s offline exposure scale.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const UNITS_DIR = path.join(ROOT, 'deploy/systemd');
const CLI = path.join(ROOT, 'bin/leakscope.js');
const UNITS = readdirSync(UNITS_DIR).filter((f) => f.endsWith('.service')).sort();

/** The unit as installed on this checkout: a template instance gets a name, the CLI path is ours. */
function installed(dir: string, unit: string): string {
  const name = unit.replace('@.service', '@gw-test.service');
  const text = readFileSync(path.join(UNITS_DIR, unit), 'utf8').replaceAll('/usr/local/bin/leakscope', CLI);
  writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
}

async function systemdAnalyze(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('systemd-analyze', args, { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error('systemd-analyze is not installed: apt-get install -y systemd');
    }
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('deploy/systemd units', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'leakscope-units-'));
    copyFileSync(path.join(UNITS_DIR, 'leakscope.env.example'), path.join(dir, 'leakscope.env'));
  });

  it('ships a unit for detect, notify, serve and ship --follow', () => {
    expect(UNITS).toEqual(['leakscope-detect.service', 'leakscope-notify.service', 'leakscope-serve.service', 'leakscope-ship@.service']);
  });

  it.each(UNITS)('%s passes systemd-analyze verify without a warning', async (unit) => {
    const file = installed(dir, unit);
    const result = await systemdAnalyze(['verify', file]);
    expect(result.stderr.trim()).toBe('');
    expect(result.code).toBe(0);
  });

  it.each(UNITS)('%s is hardened, takes keys and URLs from an EnvironmentFile and checks its config first', (unit) => {
    const text = readFileSync(path.join(UNITS_DIR, unit), 'utf8');
    for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'CapabilityBoundingSet=', 'UMask=0077']) {
      expect(text.split('\n')).toContain(line);
    }
    expect(text).toMatch(/^EnvironmentFile=\/etc\/leakscope\/leakscope\.env$/m);
    expect(text).toMatch(/^ExecStartPre=\/usr\/local\/bin\/leakscope .*--check/m);
    expect(text).not.toMatch(/LEAKSCOPE_(HASH|ENC)_KEY=/); // no secret in the unit itself
  });

  it.each(UNITS)('%s has an exposure level of "OK" or better in systemd-analyze security', async (unit) => {
    const file = installed(dir, unit);
    const result = await systemdAnalyze(['security', '--offline=yes', file]);
    const level = /Overall exposure level for \S+: ([\d.]+)/.exec(result.stdout + result.stderr);
    expect(level, result.stdout + result.stderr).not.toBeNull();
    // systemd's scale: 0-1.9 "OK", up to 10 "UNSAFE"
    expect(Number(level![1])).toBeLessThan(2);
  });
});
