// `serve --tls-cert/--tls-key`: HTTPS with a certificate made for the test (openssl), a
// Secure session cookie and HSTS; and a non-loopback address refused without TLS.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../unit/cli/query-fixture.js';
import { addUser, duckdbStore, startServe, type ServeProcess, type StoreUnderTest } from './harness.js';

function httpsCall(url: string, ca: Buffer, method: string, body?: unknown): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('serve over TLS', () => {
  let store: StoreUnderTest;
  let serve: ServeProcess;
  let ca: Buffer;
  let token: string;

  beforeAll(async () => {
    store = await duckdbStore();
    const cert = join(store.dir, 'cert.pem');
    const key = join(store.dir, 'key.pem');
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert]).catch((error: Error) => {
      throw new Error(`openssl could not make a test certificate (apt-get install -y openssl): ${error.message}`);
    });
    ca = await readFile(cert);
    const usersFile = join(store.dir, 'users.yaml');
    token = await addUser(usersFile, 'tls-user', 'viewer');
    serve = await startServe([...store.flags, '--users', usersFile, '--tls-cert', cert, '--tls-key', key], {}, { scheme: 'https' });
  });

  afterAll(async () => {
    await serve?.stop('SIGKILL');
  });

  it('answers over HTTPS with HSTS, and marks the session cookie Secure', async () => {
    const health = await httpsCall(`${serve.url}/healthz`, ca, 'GET');
    expect([health.status, JSON.parse(health.text).ok]).toEqual([200, true]);
    expect(health.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    const signIn = await httpsCall(`${serve.url}/api/v1/session`, ca, 'POST', { token });
    expect(signIn.status).toBe(200);
    expect(String(signIn.headers['set-cookie'])).toMatch(/; Secure/);
  });

  it('refuses to listen on a non-loopback address without TLS', async () => {
    const r = await run(['serve', ...store.flags, '--listen', '0.0.0.0:0', '--users', join(store.dir, 'users.yaml')]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/cross the network in clear.*--tls-cert/)]);
  });
});
