// The embedded path end to end — scan, report --format json, who-saw --format json — on
// incidents whose ground truth the generator computed from what it put into each request.
// Once per input: the committed mixed fixture, then freshly generated NDJSON-only and
// W3C-only incidents. A second scan of the same logs must leave every answer as it was.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectorySink } from '../../../services/demo/incident.js';
import { generateIncident } from '../../../services/demo/incident/index.js';
import { run } from '../cli/query-fixture.js';

const FIXTURE = join(import.meta.dirname, '../../fixtures/incident');
const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

async function tmp(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

async function incident(format: 'ndjson' | 'w3c'): Promise<string> {
  const dir = await tmp(`leakscope-e2e-${format}-`);
  const sink = new DirectorySink(dir);
  await generateIncident({ requests: 3000, seed: `e2e-${format}`, format }, sink);
  await sink.close();
  return dir;
}

const json = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

async function answers(data: string, db: string) {
  const truthReports = { all: await json(join(data, 'truth/report.json')), leak: await json(join(data, 'truth/report-leak.json')) };
  const ours: Record<string, unknown> = {};
  for (const [name, truth] of Object.entries(truthReports)) {
    const r = await run(['report', '--from', truth.window.from, '--to', truth.window.to, '--db', db, '--format', 'json']);
    expect(r.stderr).toBe('');
    ours[`report ${name}`] = JSON.parse(r.stdout);
  }
  const whoSawFiles = (await readdir(join(data, 'truth/who-saw'))).sort();
  for (const file of whoSawFiles) {
    const r = await run(['who-saw', '--reason', 'truth check', file.replace(/\.json$/, ''), '--db', db, '--format', 'json']);
    expect(r.code).toBe(0);
    ours[`who-saw ${file}`] = JSON.parse(r.stdout);
  }
  const truth: Record<string, unknown> = { 'report all': truthReports.all, 'report leak': truthReports.leak };
  for (const file of whoSawFiles) truth[`who-saw ${file}`] = await json(join(data, 'truth/who-saw', file));
  return { ours, truth };
}

describe.each([
  ['the committed mixed fixture (NDJSON, W3C with CRLF and re-declared #Fields, gzip)', async () => FIXTURE],
  ['a generated NDJSON-only incident', () => incident('ndjson')],
  ['a generated W3C-only incident', () => incident('w3c')],
])('scan, report and who-saw on %s', (_title, make) => {
  // Three scans and a who-saw per truth file (each audited, so fsynced): seconds on a shared machine.
  it('answer exactly as the ground truth, and again after a rescan', async () => {
    const data = await make();
    const db = join(await tmp('leakscope-e2e-db-'), 'store.duckdb');
    const logs = (await readdir(join(data, 'logs'))).sort().map((f) => join(data, 'logs', f));
    const summary = (await json(join(data, 'truth/summary.json'))).totals;
    for (let pass = 1; pass <= 2; pass++) {
      const scan = await run(['scan', '--json', '--registry', join(data, 'registry.yaml'), '--db', db, ...logs]);
      expect(scan.code).toBe(0);
      expect(JSON.parse(scan.stdout)).toMatchObject({
        lines: summary.lines, requests: summary.requests, disclosures: summary.disclosures,
        violations: summary.violations, rejected: summary.rejects,
      });
      const { ours, truth } = await answers(data, db);
      expect(Object.keys(ours).length).toBeGreaterThanOrEqual(5);
      expect(ours).toEqual(truth);
    }
  }, 120_000);
});
