// A webhook receiver the tests run on loopback: records every request (headers, body) and
// answers what the test scripts (a status per request, in order; then 200).
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

export interface Webhook {
  url: string;
  received: Received[];
  /** Statuses to answer, in order; after them 200. A status of 0 holds the request unanswered. */
  script: number[];
  /** Resolves when `predicate` holds over what was received (polls every 20 ms, fails after timeoutMs). */
  waitFor(predicate: (received: Received[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhook(): Promise<Webhook> {
  const received: Received[] = [];
  const script: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = script.length > 0 ? script.shift()! : 200;
      received.push({ at: Date.now(), path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      if (status === 0) return; // held: the client times out or is killed meanwhile
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 400 ? `scripted ${status}` : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    script,
    async waitFor(predicate, timeoutMs = 30_000, what = 'the expected requests') {
      const until = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > until) throw new Error(`webhook: ${what} did not arrive within ${timeoutMs} ms; got ${received.length} requests: ${received.map((r) => r.body.slice(0, 200)).join(' | ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
