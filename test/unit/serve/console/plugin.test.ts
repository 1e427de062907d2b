// The console plugin on its own (fastify inject): the page with its strict policy, only the
// files it ships, and a clear 503 instead of a blank page when the browser code is not built.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, consolePlugin } from '../../../../services/serve/console/index.js';

async function appWith(clientDir: string): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(consolePlugin, { clientDir });
  await app.ready();
  return app;
}

describe('console plugin', () => {
  let dir: string;
  let built: FastifyInstance;
  let unbuilt: FastifyInstance;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'leakscope-console-plugin-'));
    // A stand-in for dist/serve/console/client (made by `npm run build`): what is tested is
    // which files are reachable and how, not their content.
    const client = join(dir, 'client');
    await mkdir(join(client, 'pages'), { recursive: true });
    await writeFile(join(client, 'main.js'), 'export {};\n');
    await writeFile(join(client, 'pages', 'report.js'), 'export {};\n');
    built = await appWith(client);
    unbuilt = await appWith(join(dir, 'not-built'));
  });
  afterAll(async () => {
    await built?.close();
    await unbuilt?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers / with 503 and the command that fixes it when the browser code is not built', async () => {
    const res = await unbuilt.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build');
  });

  it('serves the stylesheet and logo, but not the page itself under /console/ nor files outside the assets', async () => {
    for (const [url, status] of [['/console/console.css', 200], ['/console/logo.svg', 200], ['/console/index.html', 404],
      ['/console/../plugin.ts', 404], ['/console/%2e%2e/plugin.ts', 404], ['/console/js/main.js', 404]] as const) {
      const res = await unbuilt.inject({ method: 'GET', url });
      expect([url, res.statusCode]).toEqual([url, status]);
    }
    const css = await unbuilt.inject({ method: 'GET', url: '/console/console.css' });
    expect(css.headers['content-type']).toMatch(/^text\/css/);
  });

  it('serves the page with its own strict policy and the built modules under /console/js/', async () => {
    const page = await built.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script type="module" src="/console/js/main.js"></script>');
    for (const [url, status] of [['/console/js/main.js', 200], ['/console/js/pages/report.js', 200], ['/console/js/nope.js', 404],
      ['/console/js/../console.css', 200], ['/console/js/%2e%2e/%2e%2e/plugin.ts', 404]] as const) {
      const res = await built.inject({ method: 'GET', url });
      expect([url, res.statusCode]).toEqual([url, status]);
    }
    expect((await built.inject({ method: 'GET', url: '/console/js/main.js' })).headers['content-type']).toMatch(/javascript/);
  });

  it('allows no inline code, no data: URLs and no other origin in its policy', () => {
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).toContain("default-src 'none'");
    expect(CONSOLE_CSP).not.toMatch(/unsafe-|data:|\*/);
  });
});
