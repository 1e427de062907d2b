// The web console as a fastify plugin: the page at `/`, its stylesheet and logo under
// /console/, and its compiled browser modules under /console/js/. Everything the console
// needs comes from here (no CDN, no font or script from elsewhere); the page itself holds no
// data — it reads the API with the session cookie (README, "Web console").
import { access, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type {} from '@fastify/swagger'; // `schema.hide`: the page is not an API route
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

/**
 * The Content-Security-Policy of the console page: scripts, styles and images only from this
 * server, no inline script or style, requests only to this origin, no framing, no plugins.
 * `img-src blob:` is not needed (downloads use object URLs through a link, not an image).
 */
export const CONSOLE_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
  "font-src 'none'", "manifest-src 'none'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
  "object-src 'none'",
].join('; ');

export interface ConsoleOptions {
  /** Folder of index.html, console.css, logo.svg; default services/serve/console/assets. */
  assetsDir?: string;
  /** Folder of the compiled browser modules; default dist/serve/console/client (`npm run build`). */
  clientDir?: string;
}

// This file sits three folders below the package root both as source (services/serve/console)
// and compiled (dist/serve/console), so the same relative paths work from either.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const DEFAULT_ASSETS_DIR = join(ROOT, 'services/serve/console/assets');
export const DEFAULT_CLIENT_DIR = join(ROOT, 'dist/serve/console/client');

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export const consolePlugin: FastifyPluginAsync<ConsoleOptions> = async (app, options) => {
  const assetsDir = options.assetsDir ?? DEFAULT_ASSETS_DIR;
  const clientDir = options.clientDir ?? DEFAULT_CLIENT_DIR;
  const log = app.log.child({ component: 'serve.console' });
  const built = await exists(join(clientDir, 'main.js'));
  const page = await readFile(join(assetsDir, 'index.html'));

  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    if (!built) {
      // The API keeps working; the console says what is missing instead of a blank page.
      return reply.code(503).type('text/plain; charset=utf-8')
        .send('The leakscope console is not built: run `npm run build` and restart `leakscope serve`.\n');
    }
    return reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('cache-control', 'no-cache')
      .header('referrer-policy', 'no-referrer')
      .type('text/html; charset=utf-8')
      .send(page);
  });

  // Only the files present at start are served (wildcard: false): an allow-list, not a folder.
  const common = { wildcard: false, index: false as const, list: false as const, dotfiles: 'ignore' as const, cacheControl: false,
    setHeaders: (reply: FastifyReply) => void reply.header('cache-control', 'no-cache') };
  await app.register(fastifyStatic, { ...common, root: assetsDir, prefix: '/console/', decorateReply: false, globIgnore: ['index.html'] });
  if (built) await app.register(fastifyStatic, { ...common, root: clientDir, prefix: '/console/js/', decorateReply: false });
  else log.warn({ clientDir }, 'console not built');
};
