// The API in-process (fastify inject) over a small DuckDB store: authentication, roles,
// sessions and CSRF, bodies equal to the CLI's, the audit written before answering.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../services/serve/app.js';
import { openStoreAccess, type StoreAccess } from '../../../services/serve/store-access.js';
import { fixedUsers } from '../../../services/serve/users-directory.js';
import { newToken, tokenHash, type Role, type User } from '../../../services/users/index.js';
import { verifyChain } from '../../../services/audit/index.js';
import { ALICE, ENC_KEY_HEX, HASH_KEY_HEX, WINDOW, makeStore, run, type Fixture } from '../cli/query-fixture.js';

const TOKENS: Record<Role, string> = { viewer: newToken(), investigator: newToken(), privacy_officer: newToken(), admin: newToken() };
const USERS: User[] = (Object.keys(TOKENS) as Role[]).map((role) => ({
  name: `u-${role}`, role, tokenSha256: tokenHash(TOKENS[role]), created: '2026-01-01T00:00:00.000Z',
}));
const KEYS = { hashKey: Buffer.from(HASH_KEY_HEX, 'hex'), encKey: Buffer.from(ENC_KEY_HEX, 'hex') };

let fixture: Fixture;
let access: StoreAccess;
let app: FastifyInstance;

beforeAll(async () => {
  fixture = await makeStore();
  access = await openStoreAccess({ kind: 'duckdb', path: fixture.db });
  ({ app } = await buildApp({ store: access, users: fixedUsers(USERS), keys: KEYS, lookupsPerMinute: 1000 }));
});
afterAll(async () => {
  await app.close();
  await access.close();
});

const bearer = (role: Role) => ({ authorization: `Bearer ${TOKENS[role]}` });
const reportUrl = `/api/v1/report?from=${WINDOW.from}&to=${WINDOW.to}`;

describe('serve API (in-process)', () => {
  it('answers /healthz without a token', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect([res.statusCode, res.json()]).toEqual([200, { ok: true, store: 'duckdb', version: '0.1.0' }]);
  });

  it('refuses a request without a token with 401 and the error shape', async () => {
    const res = await app.inject({ method: 'GET', url: reportUrl });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('UNAUTHENTICATED');
  });

  it('gives the report byte-identical to the CLI for json, csv and html', async () => {
    for (const format of ['json', 'csv', 'html'] as const) {
      const api = await app.inject({ method: 'GET', url: `${reportUrl}&format=${format}`, headers: bearer('viewer') });
      const cli = await run(['report', '--from', WINDOW.from, '--to', WINDOW.to, '--format', format, '--db', fixture.db]);
      expect(api.statusCode).toBe(200);
      expect(api.body).toBe(cli.stdout);
    }
  });

  it('refuses who-saw to a viewer (403) and answers an investigator as the CLI does, after an audit entry', async () => {
    const body = { number: '07700 900123', reason: 'ticket INC-4711' };
    const denied = await app.inject({ method: 'POST', url: '/api/v1/who-saw', headers: bearer('viewer'), payload: body });
    expect(denied.statusCode).toBe(403);
    const res = await app.inject({ method: 'POST', url: '/api/v1/who-saw', headers: bearer('investigator'), payload: body });
    const cli = await run(['who-saw', ALICE, '--format', 'json', '--reason', 'cli check', '--db', fixture.db]);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(cli.stdout);
    const lines = (await readFile(`${fixture.db}.audit.ndjson`, 'utf8')).trim().split('\n');
    expect(lines.some((l) => l.includes('"actor":"u-investigator"') && l.includes('INC-4711'))).toBe(true);
    expect(lines.join('\n')).not.toMatch(/7700900123/);
    expect(verifyChain(lines).ok).toBe(true);
  });

  it('refuses unknown fields and a missing reason with 400', async () => {
    const extra = await app.inject({ method: 'POST', url: '/api/v1/who-saw', headers: bearer('investigator'), payload: { number: ALICE, reason: 'x', extra: 1 } });
    const missing = await app.inject({ method: 'POST', url: '/api/v1/who-saw', headers: bearer('investigator'), payload: { number: ALICE } });
    expect([extra.statusCode, missing.statusCode]).toEqual([400, 400]);
    expect(missing.json().error.message).toMatch(/reason/);
  });

  it('signs in with a token, needs the CSRF token for a changing request by cookie, and signs out', async () => {
    const signIn = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { token: TOKENS.investigator } });
    expect(signIn.statusCode).toBe(200);
    const setCookie = String(signIn.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookie = setCookie.split(';', 1)[0]!;
    const csrf = signIn.json().csrf_token as string;
    const read = await app.inject({ method: 'GET', url: reportUrl, headers: { cookie } });
    expect(read.statusCode).toBe(200);
    const body = { number: ALICE, reason: 'ticket INC-1' };
    const noCsrf = await app.inject({ method: 'POST', url: '/api/v1/who-saw', headers: { cookie }, payload: body });
    expect(noCsrf.statusCode).toBe(403);
    const withCsrf = await app.inject({ method: 'POST', url: '/api/v1/who-saw', headers: { cookie, 'x-csrf-token': csrf }, payload: body });
    expect(withCsrf.statusCode).toBe(200);
    const out = await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.statusCode).toBe(204);
    const after = await app.inject({ method: 'GET', url: reportUrl, headers: { cookie } });
    expect(after.statusCode).toBe(401);
  });

  it('writes a bidi override in a reason as a JSON escape in the audit, from the API as from `audit --format json`', async () => {
    const reason = 'ticket \u202e1174-CNI';
    const lookup = await app.inject({ method: 'POST', url: '/api/v1/who-saw', headers: bearer('investigator'), payload: { number: ALICE, reason } });
    expect(lookup.statusCode).toBe(200);
    const api = await app.inject({ method: 'GET', url: '/api/v1/audit', headers: bearer('privacy_officer') });
    const cli = await run(['audit', '--format', 'json', '--db', fixture.db]);
    for (const body of [api.body, cli.stdout]) {
      expect(body).not.toMatch(/\u202e/);
      expect(body).toContain('ticket \\u202e1174-CNI');
    }
    expect((api.json().entries as Array<{ reason: string }>).some((e) => e.reason === reason)).toBe(true);
  });
});
