import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { isLeakscopeError, type ErrorCode } from '../../../services/core/errors.js';
import { parseRegistry } from '../../../services/core/registry/index.js';
import { ScanInterrupted, scanFiles, type ScanOptions } from '../../../services/scan/index.js';
import { encKeyCheckOf, keyCheckOf } from '../../../services/keys/index.js';
import { openDuckDbStore, type DuckDbStore } from '../../../services/store/duckdb/index.js';
import { buildReport } from '../../../services/store/index.js';

const ALL = { from: 0, to: Date.parse('2100-01-01T00:00:00Z') };

const REGISTRY = parseRegistry(`
version: "2012-01-25.1"
region: GB
partners:
  - id: ageverify
    name: AgeVerify Ltd
    purposes: [age_verification]
    domains: ["*.ageverify.example"]
    identifiers: [x-msisdn]
    valid_from: "2011-06-01T00:00:00Z"
`, 'test');
const KEYS = { hashKey: Buffer.alloc(32, 1), encKey: Buffer.alloc(32, 2) };
const OTHER_KEYS = { hashKey: Buffer.alloc(32, 3), encKey: Buffer.alloc(32, 4) };

function ndjson(n: number, over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    ts: '2012-01-20T09:31:02.123Z', gateway_id: 'gw-lon-01', request_id: String(n), msisdn: '447700900123', bearer: '3g',
    method: 'GET', url: 'http://www.example.com/news?id=1', headers: { Host: 'www.example.com', 'X-MSISDN': '447700900123' }, status: 200,
    ...over,
  });
}

/** 6 lines: 4 requests, 3 disclosures (2 violations, 1 authorised), 1 reject, 1 blank line. */
const NDJSON_LOG = [
  ndjson(1),
  ndjson(2, { url: 'http://m.ageverify.example/check', headers: { Host: 'm.ageverify.example', 'X-MSISDN': '447700900123' } }),
  ndjson(3, { url: 'http://quiet.example.net/', headers: { Host: 'quiet.example.net' } }),
  'this is not json',
  '',
  ndjson(5, { url: 'http://news.example.org/p?tel=447700900123', headers: { Host: 'news.example.org' } }),
].join('\n') + '\n';

/** 2 requests, both disclosing to unauthorised recipients. */
const W3C_LOG = [
  '#Version: 1.0',
  '#Fields: date time x-gateway-id x-request-id x-msisdn x-bearer c-ip cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query sc-status sc-bytes cs(User-Agent) sr(X-MSISDN)',
  '2012-01-10 09:31:02.123 gw-lon-02 1 447700900456 3g 10.12.0.5 GET http www.example.com 80 /news id=1 200 5120 "Mozilla/5.0 (Linux)" 447700900456',
  '2012-01-10 09:32:00 gw-lon-02 2 447700900456 3g 10.12.0.5 GET http shop.example.co.uk 80 / - 200 100 - 447700900456',
].join('\r\n') + '\r\n';

const dir = mkdtempSync(join(tmpdir(), 'leakscope-scan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
let work: string;
let store: DuckDbStore;
beforeEach(async (context) => {
  work = join(dir, `case-${++n}`);
  (await import('node:fs')).mkdirSync(work);
  store = await openDuckDbStore(join(work, 'store.duckdb'));
  context.onTestFinished(() => store.close());
});

function file(name: string, content: string | Buffer): string {
  const path = join(work, name);
  writeFileSync(path, content);
  return path;
}

function options(inputs: string[], over: Partial<ScanOptions> = {}): ScanOptions {
  return { inputs, format: 'auto', registry: REGISTRY, keys: KEYS, store, rejectsPath: join(work, 'rejects.ndjson'), ...over };
}

async function codeOf(promise: Promise<unknown>): Promise<ErrorCode | string> {
  const error = await promise.then(() => null, (e: unknown) => e);
  return isLeakscopeError(error) ? error.code : `not a LeakscopeError: ${String(error)}`;
}

describe('scanFiles', () => {
  it('counts lines, requests, disclosures, violations and rejects of an NDJSON log exactly', async () => {
    const log = file('a.ndjson', NDJSON_LOG);
    expect(await scanFiles(options([log]))).toEqual({ lines: 6, requests: 4, disclosures: 3, violations: 2, rejected: 1, faulted: 0, notForwarded: 0, unreadFields: [] });
    expect(await store.count()).toEqual({ disclosures: 3, violations: 2 });
  });

  it('writes every reject with its source, line number, reason and raw text', async () => {
    const log = file('a.ndjson', NDJSON_LOG);
    await scanFiles(options([log]));
    const rejects = readFileSync(join(work, 'rejects.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rejects).toEqual([{ source: log, line: 4, reason: expect.any(String), raw: 'this is not json' }]);
  });

  it('keeps the rejects file owner-only, even one that existed with wider permissions', async () => {
    const log = file('a.ndjson', NDJSON_LOG);
    writeFileSync(join(work, 'rejects.ndjson'), '', { mode: 0o644 });
    chmodSync(join(work, 'rejects.ndjson'), 0o644);
    await scanFiles(options([log]));
    expect(statSync(join(work, 'rejects.ndjson')).mode & 0o777).toBe(0o600);
  });

  it('leaves the same store when the same logs are scanned again', async () => {
    const log = file('a.ndjson', NDJSON_LOG);
    const first = await scanFiles(options([log]));
    const before = await store.report({ from: 0, to: Date.parse('2100-01-01') });
    const second = await scanFiles(options([log]));
    expect(second).toEqual(first);
    expect(await store.count()).toEqual({ disclosures: 3, violations: 2 });
    expect(await store.report({ from: 0, to: Date.parse('2100-01-01') })).toEqual(before);
    expect((await store.scans()).map((s) => [s.outcome, s.disclosures])).toEqual([['done', 3], ['done', 3]]);
  });

  it('reads gzip files, W3C logs and stdin in one scan', async () => {
    const gz = file('a.ndjson.gz', gzipSync(NDJSON_LOG));
    const w3c = file('b.log', W3C_LOG);
    const stdin = Readable.from([Buffer.from(ndjson(9, { gateway_id: 'gw-stdin' }) + '\n')]);
    const summary = await scanFiles(options([gz, w3c, '-'], { stdin }));
    expect(summary).toEqual({ lines: 6 + 4 + 1, requests: 4 + 2 + 1, disclosures: 3 + 2 + 1, violations: 2 + 2 + 1, rejected: 1, faulted: 0, notForwarded: 0, unreadFields: [] });
    expect(await store.count()).toEqual({ disclosures: 6, violations: 5 });
  });

  it('keeps the region and a key check in the store, and refuses another key or region', async () => {
    const log = file('a.ndjson', NDJSON_LOG);
    await scanFiles(options([log]));
    expect(await store.readMeta()).toEqual({ region: 'GB', keyCheck: keyCheckOf(KEYS), encKeyCheck: encKeyCheckOf(KEYS) });
    expect(await codeOf(scanFiles(options([log], { keys: OTHER_KEYS })))).toBe('KEY_INVALID');
    // The right hash key with another encryption key would mix ciphertexts an export cannot read.
    expect(await codeOf(scanFiles(options([log], { keys: { hashKey: KEYS.hashKey, encKey: OTHER_KEYS.encKey } })))).toBe('KEY_INVALID');
    const french = { ...REGISTRY, region: 'FR' };
    expect(await codeOf(scanFiles(options([log], { registry: french })))).toBe('REGISTRY_INVALID');
    expect(await store.count()).toEqual({ disclosures: 3, violations: 2 });
  });

  it('refuses a missing file before storing anything from the others', async () => {
    const log = file('a.ndjson', NDJSON_LOG);
    expect(await codeOf(scanFiles(options([log, join(work, 'missing.log')])))).toBe('INPUT_UNREADABLE');
    expect(await store.count()).toEqual({ disclosures: 0, violations: 0 });
  });

  it('refuses a log whose format cannot be told, and a format forced wrong', async () => {
    const text = file('a.txt', 'hello world\n');
    const log0 = file('first.ndjson', NDJSON_LOG);
    expect(await codeOf(scanFiles(options([log0, text])))).toBe('FORMAT_UNKNOWN');
    expect(await store.count()).toEqual({ disclosures: 0, violations: 0 }); // refused before anything was stored
    const log = file('a.ndjson', NDJSON_LOG);
    // Forced W3C, NDJSON lines are rejects (never dropped), not a refusal.
    const summary = await scanFiles(options([log], { format: 'w3c' }));
    expect(summary).toMatchObject({ requests: 0, rejected: 5 });
  });

  it('refuses no inputs, or stdin given twice', async () => {
    expect(await codeOf(scanFiles(options([])))).toBe('USAGE');
    expect(await codeOf(scanFiles(options(['-', '-'])))).toBe('USAGE');
  });

  it('stops when aborted, keeps whole batches only, and a rerun completes the store', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => ndjson(100 + i)).join('\n') + '\n';
    const log = file('big.ndjson', lines);
    const controller = new AbortController();
    const error = await scanFiles(options([log], {
      batchLines: 10, signal: controller.signal, onProgress: () => controller.abort(),
    })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScanInterrupted);
    const stored = (await store.count()).disclosures;
    expect(stored % 10).toBe(0);
    expect(stored).toBeLessThan(40);
    expect((error as ScanInterrupted).summary.disclosures).toBe(stored);
    expect((await store.scans())[0]!.outcome).toBe('interrupted');
    await scanFiles(options([log]));
    expect(await store.count()).toEqual({ disclosures: 40, violations: 40 });
  });

  it('keeps every stdin line already read when interrupted, since stdin cannot be read again', async () => {
    const stdin = new PassThrough();
    const controller = new AbortController();
    stdin.write(Array.from({ length: 25 }, (_, i) => ndjson(500 + i)).join('\n') + '\n');
    const error = await scanFiles(options(['-'], {
      stdin, batchLines: 10, signal: controller.signal,
      onProgress: (p) => {
        if (p.lines >= 20 && !controller.signal.aborted) {
          controller.abort();
          stdin.end(ndjson(999) + '\n'); // may or may not be read with the rest: either way it is counted as stored
        }
      },
    })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScanInterrupted);
    const stored = (await store.count()).disclosures;
    expect(stored).toBeGreaterThanOrEqual(25); // the 5 lines read after the last full batch are kept
    expect((error as ScanInterrupted).summary.disclosures).toBe(stored);
  });

  it('reports progress in bytes against the total size', async () => {
    const log = file('a.ndjson', NDJSON_LOG);
    const seen: Array<{ bytes: number; totalBytes: number | null }> = [];
    await scanFiles(options([log], { onProgress: (p) => seen.push({ bytes: p.bytes, totalBytes: p.totalBytes }) }));
    expect(seen.at(-1)).toEqual({ bytes: Buffer.byteLength(NDJSON_LOG), totalBytes: Buffer.byteLength(NDJSON_LOG) });
  });

  // Workers run compiled JS: this runs after `npm run build` and checks that byte ranges
  // handled by several workers give the same counts and store as one thread.
  const worker = new URL('../../../dist/scan/worker.js', import.meta.url);
  it('gives the same summary and store with worker threads as in one thread', async () => {
    if (!existsSync(fileURLToPath(worker))) throw new Error(`${fileURLToPath(worker)} is missing: run \`npm run build\` first (npm test does)`);
    const lines: string[] = ['#Fields: date time x-gateway-id x-request-id x-msisdn cs-host cs-uri-path sr(X-MSISDN)'];
    for (let i = 0; i < 20_000; i++) {
      const host = i % 7 === 0 ? 'm.ageverify.example' : `www.site${i % 50}.example`;
      lines.push(i % 997 === 0 ? `broken line ${i}` : `2012-01-20 09:${String(i % 60).padStart(2, '0')}:00 gw-w ${i} 4477009${String(i % 500).padStart(5, '0')} ${host} /p/${i} 4477009${String(i % 500).padStart(5, '0')}`);
    }
    const log = file('w.log', lines.join('\n') + '\n');
    const inThread = await scanFiles(options([log], { workers: 0, rejectsPath: join(work, 'r1.ndjson') }));
    const counts = await store.count();
    const report = buildReport(ALL, await store.report(ALL));
    await store.close();
    store = await openDuckDbStore(join(work, 'store2.duckdb'));
    const parallel = await scanFiles(options([log], {
      workers: 2, workerScript: worker, parallelMinBytes: 0, rangeBytes: 64 * 1024, rejectsPath: join(work, 'r2.ndjson'),
    }));
    expect(parallel).toEqual(inThread);
    expect(await store.count()).toEqual(counts);
    expect(buildReport(ALL, await store.report(ALL))).toEqual(report);
    const sortLines = (p: string): string[] => readFileSync(p, 'utf8').trim().split('\n').sort();
    expect(sortLines(join(work, 'r2.ndjson'))).toEqual(sortLines(join(work, 'r1.ndjson')));
  }, 120_000);

  it.each([
    ['NDJSON', 'ndjson', null, (status: string, bytes: string) => ndjson(1, { status: Number(status), bytes: Number(bytes) }), 'status: not a non-negative integer', 'bytes: not a non-negative integer'],
    ['W3C', 'w3c', null, (status: string, bytes: string) => `2012-01-20 09:31:02 GET http://www.example.com/ ${status} ${bytes}`, 'sc-status: 2147483648 is above 2147483647, the largest the Avro GatewayRequest holds', 'sc-bytes: 9007199254740991 is above 9007199254740990, the largest the Avro GatewayRequest holds'],
    ['CSV', 'csv', 'csv', (status: string, bytes: string) => `2012-01-20T09:31:02Z,http://www.example.com/,${status},${bytes}`, 'status: 2147483648 is above 2147483647, the largest the Avro GatewayRequest holds', 'bytes: 9007199254740991 is above 9007199254740990, the largest the Avro GatewayRequest holds'],
  ] as const)('rejects a %s status or byte count above what the stream can hold, with its reason', async (_name, format, profileName, line, statusReason, bytesReason) => {
    const { builtInProfile } = await import('../../../services/core/parse/index.js');
    const preamble = format === 'w3c' ? ['#Fields: date time cs-method cs-uri sc-status sc-bytes'] : format === 'csv' ? ['ts,url,status,bytes'] : [];
    const log = file(`counts.${format}`, `${[...preamble, line('200', '1'), line('2147483648', '1'), line('200', '9007199254740991')].join('\n')}\n`);
    const summary = await scanFiles(options([log], { format, ...(profileName !== null ? { profile: builtInProfile(profileName) } : {}) }));
    expect(summary).toMatchObject({ requests: 1, rejected: 2 });
    const rejects = readFileSync(join(work, 'rejects.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; reason: string });
    expect(rejects.map((r) => [r.line, r.reason])).toEqual([[preamble.length + 2, statusReason], [preamble.length + 3, bytesReason]]);
  });
});
