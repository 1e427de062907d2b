// A real Alertmanager (Debian's prometheus-alertmanager) for one test: its own port, storage
// and config, made from deploy/local/alertmanager/alertmanager.yml.in with the test's webhook
// receiver as the destination (`deploy/local/stack alertmanager-config`). Never skips: a
// missing binary fails with the command that installs it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { STACK_SCRIPT } from './servers.js';

export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

export interface Alertmanager {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export async function startAlertmanager(webhookUrl: string, groupWait = '1s', groupInterval = '2s'): Promise<Alertmanager> {
  if (!existsSync(ALERTMANAGER_BIN)) {
    throw new Error(`${ALERTMANAGER_BIN} is missing: this test needs the real Alertmanager. Install it with: bash deploy/local/stack provision (or: apt-get install -y prometheus-alertmanager)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'leakscope-am-'));
  const { stdout } = await promisify(execFile)('bash', [STACK_SCRIPT, 'alertmanager-config', webhookUrl, groupWait, groupInterval]);
  writeFileSync(join(dir, 'alertmanager.yml'), stdout);
  const port = await freePort();
  const child: ChildProcess = spawn(ALERTMANAGER_BIN, [
    `--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => { log = (log + c.toString()).slice(-4000); });
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`alertmanager exited at start (${child.exitCode}): ${log}`);
    const ok = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > until) throw new Error(`alertmanager not ready on ${url} within 30 s: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
