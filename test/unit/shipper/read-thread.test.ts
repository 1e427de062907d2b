import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AvroCodec, fromAvroGatewayRequest } from '../../../services/avro/index.js';
import { isLeakscopeError } from '../../../services/core/errors.js';
import { readLogs } from '../../../services/files/index.js';
import { ReadThread, readShipBatches, type ShipBatch } from '../../../services/shipper/read-thread.js';

// The reading thread runs compiled JS: this runs after `npm run build` (npm test does).
const WORKER = new URL('../../../dist/shipper/read-worker.js', import.meta.url);

function requireWorker(): URL {
  if (!existsSync(fileURLToPath(WORKER))) throw new Error(`${fileURLToPath(WORKER)} is missing: run \`npm run build\` first (npm test does)`);
  return WORKER;
}

function log(dir: string, name: string, n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 97 === 5) {
      lines.push(`not json ${i}`);
      continue;
    }
    const msisdn = i % 11 === 0 ? null : `4477009${String(i % 700).padStart(5, '0')}`;
    const headers: Record<string, string> = { Host: `www.site${i % 40}.example`, 'User-Agent': 'Mozilla/5.0' };
    if (msisdn !== null && i % 3 === 0) headers['X-MSISDN'] = msisdn;
    lines.push(JSON.stringify({
      ts: new Date(Date.parse('2012-01-20T00:00:00Z') + i * 1000).toISOString(), gateway_id: `gw-${i % 3}`, request_id: String(i), msisdn,
      method: 'GET', url: `http://www.site${i % 40}.example/p?id=${i}&ü=${'x'.repeat(i % 300)}`, headers, status: 200, bytes: i,
    }));
  }
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

async function collect(files: string[], readWorker: URL | null, batchLines = 128, thread: ReadThread | null = null): Promise<Array<Omit<ShipBatch, 'messages'> & { messages: Array<{ key: unknown; value: string }> }>> {
  const out = [];
  for await (const b of readShipBatches(files, { format: 'ndjson', profile: null, batchLines, readWorker, maxAhead: 2, thread })) {
    out.push({ ...b, messages: b.messages.map((m) => ({ key: m.key, value: (m.value as Buffer).toString('base64') })) });
  }
  return out;
}

describe('the shipper\'s reading thread', () => {
  it('hands over the same batches, byte for byte, as reading in this thread, and they decode to what was read', async () => {
    const worker = requireWorker();
    const dir = mkdtempSync(join(tmpdir(), 'lk-ship-read-'));
    const files = [log(dir, 'a.ndjson', 3000), log(dir, 'b.ndjson', 700)];
    const here = await collect(files, null);
    const there = await collect(files, worker);
    expect(there).toEqual(here);
    expect(here.length).toBeGreaterThan(20);

    const codec = new AvroCodec();
    const read = [];
    for await (const b of readLogs(files, { format: 'ndjson', batchLines: 128 })) read.push(...b.requests);
    const shipped = there.flatMap((b) => b.messages);
    expect(shipped.map((m) => fromAvroGatewayRequest(codec.decodeAs('GatewayRequest', Buffer.from(m.value, 'base64'))))).toEqual(read);
    expect(shipped.map((m) => m.key)).toEqual(read.map((r) => r.msisdn ?? r.gatewayId));
    expect(there.reduce((a, b) => a + b.rejects.length, 0)).toBe(here.reduce((a, b) => a + b.rejects.length, 0));
    expect(there.flatMap((b) => b.rejects).length).toBeGreaterThan(30);
  });

  it('gathers batches larger than it parses at a time, never mixing files, and loses no line', async () => {
    const worker = requireWorker();
    const dir = mkdtempSync(join(tmpdir(), 'lk-ship-read-'));
    const files = [log(dir, 'a.ndjson', 2500), log(dir, 'b.ndjson', 700)];
    const there = await collect(files, worker, 1200);
    expect(there).toEqual(await collect(files, null, 1200));
    // 2500 lines: 1200, 1200, 100 (the file's end); then b's 700 alone.
    expect(there.map((b) => b.lines)).toEqual([1200, 1200, 100, 700]);
    const codec = new AvroCodec();
    const read = [];
    for await (const b of readLogs(files, { format: 'ndjson', batchLines: 128 })) read.push(...b.requests);
    const shipped = there.flatMap((b) => b.messages);
    expect(shipped.map((m) => fromAvroGatewayRequest(codec.decodeAs('GatewayRequest', Buffer.from(m.value, 'base64'))))).toEqual(read);
    expect(there.reduce((a, b) => a + b.messages.length + b.rejects.length, 0)).toBe(3200);
  });

  it('reads with a thread started ahead as with one started for the work, and ends a thread given none', async () => {
    const worker = requireWorker();
    const dir = mkdtempSync(join(tmpdir(), 'lk-ship-read-'));
    const files = [log(dir, 'a.ndjson', 1500)];
    const ahead = ReadThread.start(worker)!;
    const ended = new Promise((resolve) => ahead.worker.once('exit', resolve));
    await new Promise((r) => setTimeout(r, 50)); // loading its modules while nothing asks
    expect(await collect(files, null, 256, ahead)).toEqual(await collect(files, worker, 256));
    await ended; // ended after its work (the test times out otherwise)
    expect(() => ahead.take()).toThrow(/given work twice/);

    const unused = ReadThread.start(worker)!;
    const gone = new Promise((resolve) => unused.worker.once('exit', resolve));
    expect((await collect([], null, 256, unused)).length).toBe(0); // no file: nothing for it to do
    await gone;
  });

  it('refuses an unreadable input with the same error as this thread', async () => {
    const worker = requireWorker();
    const missing = join(mkdtempSync(join(tmpdir(), 'lk-ship-read-')), 'gone.ndjson');
    const failure = async (readWorker: URL | null) => {
      try {
        await collect([missing], readWorker);
      } catch (err) {
        return { leakscope: isLeakscopeError(err), code: (err as { code?: string }).code, message: (err as Error).message };
      }
      throw new Error('no error');
    };
    const here = await failure(null);
    expect(here.code).toBe('INPUT_UNREADABLE');
    expect(await failure(worker)).toEqual(here);
  });

  it.each([
    ['ndjson', 'ndjson', 'a.ndjson', '', (status: string, bytes: string) => `{"ts":"2012-01-10T09:31:02Z","url":"http://www.example.com/","status":${status},"bytes":${bytes}}`, 'status: not a non-negative integer', 'bytes: not a non-negative integer'],
    ['w3c', 'w3c', 'a.log', '#Fields: date time cs-method cs-uri sc-status sc-bytes\n', (status: string, bytes: string) => `2012-01-10 09:31:02 GET http://www.example.com/ ${status} ${bytes}`, 'sc-status: 2147483648 is above 2147483647, the largest the Avro GatewayRequest holds', 'sc-bytes: 9007199254740991 is above 9007199254740990, the largest the Avro GatewayRequest holds'],
    ['csv', 'csv', 'a.csv', 'ts,url,status,bytes\n', (status: string, bytes: string) => `2012-01-10T09:31:02Z,http://www.example.com/,${status},${bytes}`, 'status: 2147483648 is above 2147483647, the largest the Avro GatewayRequest holds', 'bytes: 9007199254740991 is above 9007199254740990, the largest the Avro GatewayRequest holds'],
    ['squid', 'squid', 'access.log', '', (status: string, bytes: string) => `1326187862.123    145 10.12.0.5 TCP_MISS/${status} ${bytes} GET http://www.example.com/ - HIER_DIRECT/203.0.113.10 text/html`, '%>Hs: 2147483648 is above 2147483647, the largest the Avro GatewayRequest holds', '%<st: 9007199254740991 is above 9007199254740990, the largest the Avro GatewayRequest holds'],
  ] as const)('makes a %s status or byte count the Avro record cannot hold a reject with its reason, and ships the rest', async (_name, format, name, preamble, line, statusReason, bytesReason) => {
    const worker = requireWorker();
    const dir = mkdtempSync(join(tmpdir(), 'lk-ship-read-'));
    const path = join(dir, name);
    writeFileSync(path, `${preamble}${[line('200', '5120'), line('2147483648', '5120'), line('200', '9007199254740991'), line('2147483647', '9007199254740990')].join('\n')}\n`);
    const { builtInProfile } = await import('../../../services/core/parse/index.js');
    const profile = format === 'squid' || format === 'csv' ? builtInProfile(format) : null;
    for (const readWorker of [worker, null]) {
      const batches: ShipBatch[] = [];
      for await (const b of readShipBatches([path], { format, profile, batchLines: 128, readWorker, maxAhead: 2 })) batches.push(b);
      const rejects = batches.flatMap((b) => b.rejects);
      const first = preamble === '' ? 1 : 2;
      expect(rejects.map((r) => [r.line, r.reason])).toEqual([[first + 1, statusReason], [first + 2, bytesReason]]);
      const codec = new AvroCodec();
      const shipped = batches.flatMap((b) => b.messages).map((m) => fromAvroGatewayRequest(codec.decodeAs('GatewayRequest', m.value as Buffer)));
      expect(shipped.map((r) => [r.status, r.bytes])).toEqual([[200, 5120], [2147483647, 9007199254740990]]);
    }
  });
});
