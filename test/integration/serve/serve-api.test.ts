// `leakscope serve` as a real process over DuckDB and over ClickHouse 18.16: every route ×
// every role, bad bodies, the rate limit, sessions and CSRF, the audit (appended, without the
// number, verified), answers byte-equal to the CLI's, every response valid against the served
// OpenAPI document, /metrics accepted by promtool, request logs without numbers or tokens, and
// a clean stop on SIGTERM.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRegistryFile } from '../../../services/files/index.js';
import { ROLES, roleAtLeast, type Role } from '../../../services/users/index.js';
import { ALICE, WINDOW, run } from '../../unit/cli/query-fixture.js';
import { addUser, chdbStore, clickhouseStore, duckdbStore, startServe, type ServeProcess, type StoreUnderTest } from './harness.js';

const REGISTRY = join(import.meta.dirname, '../../fixtures/incident/registry.yaml');
const PROMTOOL = process.env.LEAKSCOPE_PROMTOOL ?? '/usr/bin/promtool';
const LOOKUPS_PER_MINUTE = 6;

interface Seen {
  method: string;
  route: string;
  status: number;
  contentType: string;
  body: string;
}

interface Call {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  route: string;
  body?: unknown;
  role: Role;
}

const ROUTES: Call[] = [
  { method: 'GET', path: `/api/v1/report?from=${WINDOW.from}&to=${WINDOW.to}`, route: '/api/v1/report', role: 'viewer' },
  { method: 'POST', path: '/api/v1/who-saw', route: '/api/v1/who-saw', body: { number: ALICE, reason: 'ticket INC-100' }, role: 'investigator' },
  { method: 'POST', path: '/api/v1/affected', route: '/api/v1/affected', body: { from: WINDOW.from, to: WINDOW.to, reason: 'notification NOT-7' }, role: 'privacy_officer' },
  { method: 'GET', path: '/api/v1/alerts', route: '/api/v1/alerts', role: 'viewer' },
  { method: 'GET', path: '/api/v1/registry', route: '/api/v1/registry', role: 'viewer' },
  { method: 'GET', path: '/api/v1/audit', route: '/api/v1/audit', role: 'privacy_officer' },
];

describe.each([
  ['DuckDB', duckdbStore],
  ['ClickHouse 18.16', clickhouseStore],
  ['ClickHouse in-process (chdb)', chdbStore],
] as const)('leakscope serve over %s', (_name, makeStore) => {
  let store: StoreUnderTest;
  let serve: ServeProcess;
  let usersFile: string;
  const tokens = {} as Record<Role, string>;
  const extra: Record<string, string> = {};
  const seen: Seen[] = [];
  /** Request logs of serve processes stopped so far (an exclusive store's serve is restarted around the CLI). */
  let logs = '';
  const serveArgs = () => [...store.flags, '--users', usersFile, '--lookups-per-minute', String(LOOKUPS_PER_MINUTE), '--registry', REGISTRY];

  /** Runs CLI commands on the store; for a store one process holds at a time (chdb), serve lets go of it meanwhile. */
  async function cli(...commands: string[][]): Promise<Array<{ code: number; stdout: string; stderr: string }>> {
    if (store.exclusive) {
      expect(await serve.stop('SIGTERM')).toBe(0);
      logs += serve.stderr();
    }
    const results = [];
    for (const args of commands) results.push(await store.cli([...args, ...store.flags]));
    if (store.exclusive) serve = await startServe(serveArgs(), store.env);
    return results;
  }

  async function call(method: string, route: string, path: string, options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Response & { text: string }> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.raw !== undefined || options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = options.raw ?? JSON.stringify(options.body);
    }
    const res = await fetch(`${serve.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    seen.push({ method, route, status: res.status, contentType: res.headers.get('content-type') ?? '', body: text });
    return Object.assign(res, { text });
  }

  beforeAll(async () => {
    store = await makeStore();
    usersFile = join(store.dir, 'users.yaml');
    for (const role of ROLES) tokens[role] = await addUser(usersFile, `u-${role.replace('_', '-')}`, role);
    for (const name of ['bad', 'burst', 'web']) extra[name] = await addUser(usersFile, name, 'privacy_officer');
    serve = await startServe(serveArgs(), store.env);
  });

  afterAll(async () => {
    await serve?.stop('SIGKILL');
    await store?.cleanup();
  });

  it('refuses every route without a token (401) and answers each role 200 or 403 by its rank', async () => {
    for (const r of ROUTES) {
      const anonymous = await call(r.method, r.route, r.path, { body: r.body });
      expect([r.route, anonymous.status, JSON.parse(anonymous.text).error.code]).toEqual([r.route, 401, 'UNAUTHENTICATED']);
      const unknown = await call(r.method, r.route, r.path, { body: r.body, token: `lks_${'A'.repeat(43)}` });
      expect([r.route, unknown.status]).toEqual([r.route, 401]);
      for (const role of ROLES) {
        const res = await call(r.method, r.route, r.path, { body: r.body, token: tokens[role] });
        expect([r.route, role, res.status]).toEqual([r.route, role, roleAtLeast(role, r.role) ? 200 : 403]);
      }
    }
  });

  it('shows the registry given with --registry: version, region, partners with their periods', async () => {
    const res = await call('GET', '/api/v1/registry', '/api/v1/registry', { token: tokens.viewer });
    const registry = await readRegistryFile(REGISTRY);
    const body = JSON.parse(res.text) as { version: string; region: string; partners: Array<{ id: string; valid_from: string | null }> };
    expect([res.status, body.version, body.region]).toEqual([200, registry.version, registry.region]);
    expect(body.partners.map((p) => p.id)).toEqual(registry.partners.map((p) => p.id));
    expect(body.partners.map((p) => p.valid_from)).toEqual(registry.partners.map((p) => (p.validFrom === null ? null : new Date(p.validFrom).toISOString())));
  });

  it('answers /healthz without a token, and 404 with the error shape for an unknown route', async () => {
    const health = await call('GET', '/healthz', '/healthz');
    expect([health.status, JSON.parse(health.text)]).toEqual([200, { ok: true, store: store.kind, version: '0.1.0' }]);
    const missing = await call('GET', 'unmatched', '/api/v1/nothing', { token: tokens.admin });
    expect([missing.status, JSON.parse(missing.text).error.code]).toEqual([404, 'USAGE']);
  });

  it('refuses bad bodies with 400 and a reason', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ number: ALICE }, /reason/],
      [{ number: ALICE, reason: 'x', extra: true }, /additional/],
      [{ number: ALICE, reason: 'x', from: 'yesterday' }, /from "yesterday": not a time/],
      [{ number: ALICE, reason: 'x', from: '2012-01-12', to: '2012-01-11' }, /not before/],
      [{ number: '12', reason: 'x' }, /cannot read the NUMBER/],
      [{ number: ALICE, reason: 'caller +44 7700 900456 asked' }, /must not hold a phone number/],
      [{ number: 447700900123, reason: 'x' }, /number/],
    ];
    for (const [body, reason] of cases) {
      const res = await call('POST', '/api/v1/who-saw', '/api/v1/who-saw', { token: extra.bad!, body });
      expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 400]);
      expect(JSON.parse(res.text).error.message).toMatch(reason);
    }
    const broken = await call('POST', '/api/v1/who-saw', '/api/v1/who-saw', { token: extra.bad!, raw: '{"number": ' });
    expect(broken.status).toBe(400);
    const badReport = await call('GET', '/api/v1/report', `/api/v1/report?from=${WINDOW.from}`, { token: tokens.viewer });
    expect([badReport.status, JSON.parse(badReport.text).error.message]).toEqual([400, expect.stringMatching(/to/)]);
    const badAffected = await call('POST', '/api/v1/affected', '/api/v1/affected', { token: extra.bad!, body: { from: WINDOW.from, to: WINDOW.to } });
    expect(badAffected.status).toBe(400);
  });

  it('answers exactly what the CLI prints: report (json, csv, html), who-saw and the notification list', async () => {
    const reports = [];
    for (const format of ['json', 'csv', 'html']) {
      const api = await call('GET', '/api/v1/report', `/api/v1/report?from=${WINDOW.from}&to=${WINDOW.to}&format=${format}`, { token: tokens.viewer });
      expect([format, api.status]).toEqual([format, 200]);
      reports.push(api.text);
    }
    const site = await call('GET', '/api/v1/report', `/api/v1/report?from=${WINDOW.from}&to=${WINDOW.to}&site=WWW.Example.com`, { token: tokens.viewer });
    const whoSaw = await call('POST', '/api/v1/who-saw', '/api/v1/who-saw', { token: tokens.investigator, body: { number: '07700 900123', reason: 'ticket INC-101', from: '2012-01-10' } });
    expect(whoSaw.status).toBe(200);
    expect(JSON.parse(whoSaw.text).recipients.length).toBeGreaterThan(0);
    const affected = await call('POST', '/api/v1/affected', '/api/v1/affected', { token: tokens.privacy_officer, body: { from: WINDOW.from, to: WINDOW.to, reason: 'notification NOT-8' } });
    expect([affected.status, affected.headers.get('content-type')]).toEqual([200, 'text/csv; charset=utf-8']);

    const [json, csv, html, cliSite, cliWhoSaw, cliAffected] = await cli(
      ...['json', 'csv', 'html'].map((format) => ['report', '--from', WINDOW.from, '--to', WINDOW.to, '--format', format]),
      ['report', '--from', WINDOW.from, '--to', WINDOW.to, '--format', 'json', '--site', 'WWW.Example.com'],
      ['who-saw', ALICE, '--from', '2012-01-10', '--format', 'json', '--reason', 'ticket INC-101'],
      ['export-affected', '--from', WINDOW.from, '--to', WINDOW.to, '--reason', 'notification NOT-8'],
    );
    expect(reports).toEqual([json!.stdout, csv!.stdout, html!.stdout]);
    expect(site.text).toBe(cliSite!.stdout);
    expect(whoSaw.text).toBe(cliWhoSaw!.stdout);
    expect(affected.text).toBe(cliAffected!.stdout);
  });

  it('limits lookups per user: 429 with Retry-After past the limit, other users unaffected', async () => {
    const body = { number: ALICE, reason: 'ticket INC-200' };
    for (let i = 0; i < LOOKUPS_PER_MINUTE; i++) {
      const ok = await call('POST', '/api/v1/who-saw', '/api/v1/who-saw', { token: extra.burst!, body });
      expect(ok.status).toBe(200);
    }
    const over = await call('POST', '/api/v1/affected', '/api/v1/affected', { token: extra.burst!, body: { from: WINDOW.from, to: WINDOW.to, reason: 'x' } });
    expect([over.status, JSON.parse(over.text).error.code]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    const other = await call('POST', '/api/v1/who-saw', '/api/v1/who-saw', { token: tokens.admin, body });
    expect(other.status).toBe(200);
  });

  it('signs in for the console: HttpOnly SameSite=Strict cookie, CSRF token required on changing requests, sign-out ends it', async () => {
    const signIn = await call('POST', '/api/v1/session', '/api/v1/session', { body: { token: extra.web! } });
    expect(signIn.status).toBe(200);
    const cookieHeader = signIn.headers.get('set-cookie') ?? '';
    expect(cookieHeader).toMatch(/^leakscope_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    const cookie = cookieHeader.split(';', 1)[0]!;
    const { csrf_token: csrf, role } = JSON.parse(signIn.text) as { csrf_token: string; role: string };
    expect(role).toBe('privacy_officer');
    const bad = await call('POST', '/api/v1/session', '/api/v1/session', { body: { token: 'nope' } });
    expect(bad.status).toBe(401);

    const read = await call('GET', '/api/v1/audit', '/api/v1/audit', { headers: { cookie } });
    expect(read.status).toBe(200);
    const body = { number: ALICE, reason: 'ticket INC-300' };
    const noCsrf = await call('POST', '/api/v1/who-saw', '/api/v1/who-saw', { headers: { cookie }, body });
    expect([noCsrf.status, JSON.parse(noCsrf.text).error.code]).toEqual([403, 'FORBIDDEN']);
    const wrongCsrf = await call('POST', '/api/v1/who-saw', '/api/v1/who-saw', { headers: { cookie, 'x-csrf-token': `${csrf.slice(0, -1)}x` }, body });
    expect(wrongCsrf.status).toBe(403);
    const withCsrf = await call('POST', '/api/v1/who-saw', '/api/v1/who-saw', { headers: { cookie, 'x-csrf-token': csrf }, body });
    expect(withCsrf.status).toBe(200);
    const out = await call('DELETE', '/api/v1/session', '/api/v1/session', { headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(204);
    const after = await call('GET', '/api/v1/audit', '/api/v1/audit', { headers: { cookie } });
    expect(after.status).toBe(401);
  });

  it('stops a removed user within seconds, bearer token and session alike', async () => {
    const token = await addUser(usersFile, 'leaver', 'viewer');
    const path = `/api/v1/report?from=${WINDOW.from}&to=${WINDOW.to}`;
    // The users file is re-read within a second of a change.
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await call('GET', '/api/v1/report', path, { token })).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    expect((await run(['users', 'remove', 'leaver', '--users', usersFile])).code).toBe(0);
    for (let i = 0; i < 50 && status !== 401; i++) {
      status = (await call('GET', '/api/v1/report', path, { token })).status;
      if (status !== 401) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(401);
  });

  it('logs requests without a number, a token, a reason or a body', () => {
    const log = logs + serve.stderr();
    expect(log).toMatch(/"msg":"request answered"/);
    for (const token of [...Object.values(tokens), ...Object.values(extra)]) expect(log).not.toContain(token.slice(4));
    expect(log).not.toMatch(/7700\D?900\D?123|7700900456/);
    expect(log).not.toContain('INC-100');
  });

  it('serves /metrics that promtool accepts, counting requests, lookups and refusals', async () => {
    if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is missing: run deploy/local/tools ensure (installs Debian's prometheus package)`);
    const res = await call('GET', '/metrics', '/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/leakscope_http_requests_total\{route="\/api\/v1\/affected",method="POST",status="429"\} [1-9]/);
    // who-saw: an exclusive store's serve was restarted after the last affected answered (the rate-limit test's are refused).
    expect(res.text).toMatch(/leakscope_lookups_total\{action="who-saw"\} [1-9]/);
    expect(res.text).toMatch(/leakscope_refusals_total\{reason="rate_limited"\} [1-9]/);
    // The in-memory who-saw index of the embedded store is shown, and answered who-saw; ClickHouse has none.
    if (store.kind === 'duckdb') {
      expect(res.text).toMatch(/^leakscope_who_saw_index_state\{state="ready"\} 1$/m);
      expect(res.text).toMatch(/^leakscope_who_saw_index_rows [1-9]/m);
      expect(res.text).toMatch(/^leakscope_who_saw_answers_total\{source="index"\} [1-9]/m);
    } else expect(res.text).not.toMatch(/^leakscope_who_saw_index_state\{state="ready"\} 1$/m);
    const file = join(store.dir, 'metrics.txt');
    await writeFile(file, res.text);
    const checked = await promisify(execFile)('sh', ['-c', `"${PROMTOOL}" check metrics < "${file}"`]).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }));
    expect(checked).toEqual({ code: 0, out: '' });
  });

  it('gives responses that all match the OpenAPI 3.1 document it serves', async () => {
    const doc = JSON.parse((await call('GET', 'openapi', '/api/v1/openapi.json')).text) as {
      openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    const ajv = new Ajv2020.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    let checked = 0;
    for (const s of seen) {
      if (!s.route.startsWith('/api/v1/') && s.route !== '/healthz' && s.route !== '/metrics') continue;
      if (s.status === 404) continue;
      const operation = doc.paths[s.route]?.[s.method.toLowerCase()];
      expect([s.method, s.route, operation === undefined]).toEqual([s.method, s.route, false]);
      const response = operation!.responses[String(s.status)];
      expect([s.method, s.route, s.status, response === undefined]).toEqual([s.method, s.route, s.status, false]);
      if (s.status === 204) continue;
      const mediaType = s.contentType.split(';', 1)[0]!.trim();
      const schema = response!.content?.[mediaType]?.schema;
      expect([s.route, s.status, mediaType, schema === undefined]).toEqual([s.route, s.status, mediaType, false]);
      const value = mediaType === 'application/json' ? JSON.parse(s.body) : s.body;
      const validate = ajv.compile(schema!);
      expect([s.method, s.route, s.status, validate(value) ? 'valid' : ajv.errorsText(validate.errors)]).toEqual([s.method, s.route, s.status, 'valid']);
      checked += 1;
    }
    expect(checked).toBeGreaterThan(60);
  });

  it('wrote an audit entry for every lookup answered, chained, naming the user and never the number', async () => {
    const answered = seen.filter((s) => (s.route === '/api/v1/who-saw' || s.route === '/api/v1/affected') && s.status === 200).length;
    const cliLookups = 2;
    const audit = await call('GET', '/api/v1/audit', '/api/v1/audit', { token: tokens.privacy_officer });
    const { entries } = JSON.parse(audit.text) as { entries: Array<Record<string, unknown>> };
    expect(entries.length).toBe(answered + cliLookups);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_e, i) => i + 1));
    expect(new Set(entries.map((e) => e.actor))).toEqual(new Set(['u-investigator', 'u-privacy-officer', 'u-admin', 'burst', 'web', expect.stringMatching(/^cli:/)]));
    const whoSaw = entries.find((e) => e.action === 'who-saw' && e.actor === 'u-investigator')!;
    expect(whoSaw).toMatchObject({ role: 'investigator', reason: 'ticket INC-100', window: { from: null, to: null }, subscriber_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(entries.find((e) => e.action === 'affected')).toMatchObject({ subscriber_hash: null, window: { from: '2012-01-10T00:00:00.000Z', to: '2012-01-25T14:00:00.000Z' } });
    expect(audit.text).not.toMatch(/7700\D?900\D?123|7700900456/);
    const [verify, listed] = await cli(['audit', 'verify'], ['audit', '--format', 'json']);
    expect([verify!.code, verify!.stdout]).toEqual([0, expect.stringMatching(new RegExp(`${entries.length} entries, chain intact`))]);
    expect(JSON.parse(listed!.stdout)).toEqual(entries);
  });

  it('stops on SIGTERM: exits 0 and closes the port', async () => {
    const code = await serve.stop('SIGTERM');
    expect([code, code === 0 ? '' : serve.stderr().slice(-1500)]).toEqual([0, '']);
    expect(serve.stderr()).toContain('leakscope serve: stopped');
    await expect(fetch(`${serve.url}/healthz`)).rejects.toThrow();
  });
});

describe('audit verify', () => {
  it('names the first entry changed, removed or reordered in the embedded store\'s audit file', async () => {
    const store = await duckdbStore();
    for (const n of [1, 2, 3, 4]) {
      const r = await run(['who-saw', ALICE, '--reason', `ticket INC-${n}`, ...store.flags]);
      expect(r.code).toBe(0);
    }
    const file = `${store.flags[1]}.audit.ndjson`;
    const original = await readFile(file, 'utf8');
    const lines = original.trimEnd().split('\n');
    expect(lines.length).toBe(4);
    const tamper = async (changed: string[]) => {
      await writeFile(file, `${changed.join('\n')}\n`);
      const r = await run(['audit', 'verify', ...store.flags]);
      await writeFile(file, original);
      return r;
    };
    const edited = await tamper(lines.map((l, i) => (i === 1 ? l.replace('INC-2', 'INC-9') : l)));
    expect([edited.code, edited.stderr]).toEqual([1, expect.stringMatching(/entry 2 \(line 2\) was changed/)]);
    const removed = await tamper(lines.filter((_l, i) => i !== 2));
    expect([removed.code, removed.stderr]).toEqual([1, expect.stringMatching(/entry 3 was removed/)]);
    const swapped = await tamper([lines[0]!, lines[2]!, lines[1]!, lines[3]!]);
    expect([swapped.code, swapped.stderr]).toEqual([1, expect.stringMatching(/entry 2 was removed: line 2 holds entry 3|reordered/)]);
    const lastEdited = await tamper(lines.map((l, i) => (i === 3 ? l.replace('"results":', '"results":1') : l)));
    expect([lastEdited.code, lastEdited.stderr]).toEqual([1, expect.stringMatching(/entry 4 \(line 4\) was changed/)]);
    const intact = await run(['audit', 'verify', ...store.flags]);
    expect([intact.code, intact.stdout]).toEqual([0, expect.stringMatching(/4 entries, chain intact; head [0-9a-f]{64}/)]);
  });

  it('catches a row deleted from the ClickHouse audit table', async () => {
    const store = await clickhouseStore();
    try {
      for (const n of [1, 2, 3]) expect((await run(['who-saw', ALICE, '--reason', `ticket INC-${n}`, ...store.flags], { env: store.env })).code).toBe(0);
      expect((await run(['audit', 'verify', ...store.flags], { env: store.env })).code).toBe(0);
      const url = new URL(store.flags[1]!);
      const db = url.pathname.slice(1);
      url.pathname = '/';
      const exec = async (sql: string) => {
        const res = await fetch(url, { method: 'POST', body: sql });
        if (!res.ok) throw new Error(await res.text());
        return res.text();
      };
      await exec(`ALTER TABLE ${db}.audit_log DELETE WHERE seq = 2`);
      for (let i = 0; i < 100 && (await exec(`SELECT count() FROM ${db}.audit_log`)).trim() !== '2'; i++) await new Promise((r) => setTimeout(r, 100));
      const r = await run(['audit', 'verify', ...store.flags], { env: store.env });
      expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/entry 2 was removed/)]);
    } finally {
      await store.cleanup();
    }
  });
});
