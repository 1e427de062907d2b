// `leakscope scan` on each writer's fixture (test/fixtures/formats): the summary counts the
// requests the gateway never forwarded and lists the fields nobody read, and the store holds
// the disclosures that the writer's encoding would otherwise hide.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../services/cli/command.js';
import { main } from '../../../services/cli/main.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/formats');
const REGISTRY_YAML = `version: "2012-01-25.1"
region: GB
partners:
  - id: ageverify
    name: AgeVerify Ltd
    purposes: [age_verification]
    domains: ["*.ageverify.example"]
    identifiers: [x-msisdn]
`;

const root = mkdtempSync(join(tmpdir(), 'leakscope-cli-formats-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let cases = 0;

async function cli(argv: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => { out += c.toString(); });
  stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const io: CliIo = { stdout, stderr, stdin: Readable.from([]), env: { LEAKSCOPE_LOG_LEVEL: 'silent' }, cwd };
  const code = await main(argv, io);
  return { code, stdout: out, stderr: err };
}

function workspace(): string {
  const cwd = join(root, `case-${++cases}`);
  mkdirSync(cwd);
  writeFileSync(join(cwd, 'registry.yaml'), REGISTRY_YAML);
  return cwd;
}

interface Summary {
  lines: number; requests: number; disclosures: number; violations: number; rejected: number;
  not_forwarded: number; unread_fields: Array<{ file: string; fields: string[] }>;
}

async function scanJson(args: string[], cwd: string): Promise<Summary> {
  const r = await cli(['scan', '--json', '--workers', '0', ...args], cwd);
  expect(r.stderr).not.toContain('Error');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Summary;
}

interface ReportSite { site: string; hosts: string[]; violations: number; subscribers: number; identifiers: string[] }

/** The exposure report of everything scanned into the workspace's store. */
async function sites(cwd: string): Promise<ReportSite[]> {
  const r = await cli(['report', '--from', '2000-01-01', '--to', '2030-01-01', '--format', 'json'], cwd);
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { sites: ReportSite[] }).sites;
}

describe('leakscope scan, a hostile #Fields line', () => {
  it('lists fields it did not read with control and bidi characters escaped, in the summary and in --json', async () => {
    const cwd = workspace();
    const file = join(cwd, 'w3c.log');
    writeFileSync(file, '#Software: test\n#Fields: date time cs-host cs-uri-stem x-\u202eexe.gnp x-a\u001b]0;t\u0007\n' +
      '2012-01-10 09:00:00 www.example.com / a b\n');
    for (const args of [['--json'], []]) {
      const r = await cli(['scan', '--workers', '0', ...args, file], cwd);
      expect(r.code).toBe(0);
      expect(r.stdout.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
      expect(r.stdout).toContain('x-\\u202eexe.gnp');
    }
  });
});

describe('leakscope scan, each writer', () => {
  it('ProxySG, auto-detected: denied requests counted, not stored; unread fields listed once for the file', async () => {
    const cwd = workspace();
    const file = join(FIXTURES, 'proxysg-main.log');
    const s = await scanJson([file], cwd);
    expect(s).toMatchObject({ requests: 2, not_forwarded: 2, rejected: 0, disclosures: 1 });
    expect(s.unread_fields).toEqual([{ file, fields: expect.arrayContaining(['cs-username', 'time-taken']) as unknown as string[] }]);
    // blocked.example and ads.example were denied: they never received anything.
    expect((await sites(cwd)).map((r) => [r.site, r.hosts, r.subscribers])).toEqual([['example.com', ['www.example.com'], 1]]);
  });

  it('IIS: the cookie holding the session number and the spaced X-MSISDN are both found', async () => {
    const cwd = workspace();
    writeFileSync(join(cwd, 'iis.yaml'), 'format: iis\nfields:\n  cs-username: msisdn\n');
    const s = await scanJson(['--profile', 'iis.yaml', join(FIXTURES, 'iis-u_ex120110.log')], cwd);
    expect(s).toMatchObject({ requests: 2, disclosures: 2, not_forwarded: 0, rejected: 0 });
    expect((await sites(cwd)).map((r) => [r.site, r.subscribers, r.violations, r.identifiers]))
      .toEqual([['example.com', 1, 2, ['header:cookie', 'header:x-msisdn']]]);
  });

  it('CloudFront (tabs), Squid native and a CSV export with its profile, in one run each', async () => {
    const cf = await scanJson([join(FIXTURES, 'cloudfront-E2EXAMPLE.2019-12-04-21.log')], workspace());
    expect(cf).toMatchObject({ requests: 2, rejected: 0, not_forwarded: 0 });
    const squid = await scanJson(['--format', 'squid', join(FIXTURES, 'squid-native-access.log')], workspace());
    expect(squid).toMatchObject({ requests: 3, rejected: 0, not_forwarded: 1 });
    expect(squid.unread_fields[0]!.fields).toEqual(['%tr', '%un', '%Sh', '%<a', '%mt']);
    const csv = await scanJson(['--profile', join(FIXTURES, 'gateway-export.profile.yaml'), join(FIXTURES, 'gateway-export.csv')], workspace());
    expect(csv).toMatchObject({ requests: 2, disclosures: 2, rejected: 0, not_forwarded: 1 });
    expect(csv.unread_fields[0]!.fields).toEqual(['Device']);
  });

  it('Squid with its own logformat from the command line', async () => {
    const cwd = workspace();
    const format = '%ts.%03tu %>a %un %rm %ru %>Hs %Ss %{Host}>h %{X-MSISDN}>ha';
    const s = await scanJson(['--format', 'squid', '--squid-logformat', format, join(FIXTURES, 'squid-enriched-access.log')], cwd);
    expect(s).toMatchObject({ requests: 3, disclosures: 2, not_forwarded: 1, rejected: 0 });
    expect((await sites(cwd)).map((r) => [r.site, r.subscribers, r.identifiers])).toEqual([['example.com', 2, ['header:x-msisdn']]]);
  });

  it('refuses bad combinations and a bad profile with exit 2, naming the problem', async () => {
    const cwd = workspace();
    writeFileSync(join(cwd, 'bad.yaml'), 'format: csv\nfields:\n  A: nothing\n');
    const bad = await cli(['scan', '--profile', 'bad.yaml', join(FIXTURES, 'gateway-export.csv')], cwd);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('fields["A"]: "nothing" is not a leakscope field');
    const both = await cli(['scan', '--format', 'csv', '--profile', 'bad.yaml', join(FIXTURES, 'gateway-export.csv')], cwd);
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining('not both')]);
    const logformat = await cli(['scan', '--squid-logformat', '%ts', join(FIXTURES, 'gateway-export.csv')], cwd);
    expect([logformat.code, logformat.stderr]).toEqual([2, expect.stringContaining('--format squid')]);
  });
});
