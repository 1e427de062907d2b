// What the security team would have received during a leak: the gateway logs replayed in
// request-time order through the detector's alert tracker (the same kinds and ids as `detect`
// and `watch`), and the deliveries one route would have made live, by the route's grouping
// rule (services/notify/route.ts), per minute of request time. Used by `npm start`.
//
//   node dist/demo/alert-replay.js --registry FILE [--group-interval-ms N] [--spread-sites N] LOG...
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AvroLeakAlert } from '../avro/index.js';
import { AlertTracker } from '../detector/alerts.js';
import { readLogs, readRegistryFile } from '../files/index.js';
import { buildSnapshot } from '../core/registry/index.js';
import { Protector } from '../store/index.js';
import type { StoredDisclosure } from '../store/types.js';
import { processBatch } from '../scan/process-batch.js';
import { plannedDeliveries } from '../notify/route.js';

const MINUTE = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

export interface AlertReplay {
  alerts: AvroLeakAlert[];
  deliveries: Array<{ at: number; alerts: number }>;
}

export async function replayAlerts(registryPath: string, logs: readonly string[], groupIntervalMs: number, spreadSites?: number): Promise<AlertReplay> {
  const registry = await readRegistryFile(registryPath);
  const snapshot = buildSnapshot(registry);
  // Demo keys: only masked numbers reach the alerts.
  const protector = new Protector({ hashKey: Buffer.alloc(32, 7), encKey: null });
  const disclosures: StoredDisclosure[] = [];
  for await (const batch of readLogs(logs, { format: 'auto' })) disclosures.push(...(processBatch(batch, snapshot, protector, false).stored ?? []));
  disclosures.sort((a, b) => a.ts - b.ts);
  const tracker = new AlertTracker(spreadSites === undefined ? {} : { spreadSites });
  const alerts: AvroLeakAlert[] = [];
  // Live, alerts arrive in request time: one batch per second of it.
  for (let i = 0; i < disclosures.length;) {
    const second = Math.floor(disclosures[i]!.ts / 1000);
    let j = i;
    while (j < disclosures.length && Math.floor(disclosures[j]!.ts / 1000) === second) j++;
    const pending = tracker.consider(disclosures.slice(i, j), (second + 1) * 1000);
    pending.commit();
    alerts.push(...pending.alerts);
    i = j;
  }
  const arrivals = alerts.map((a) => a.detected_at);
  return { alerts, deliveries: plannedDeliveries(arrivals, { groupIntervalMs, groupWaitMs: 0, maxAlertsPerDelivery: 500 }) };
}

export async function runCli(argv: string[]): Promise<number> {
  let registry: string | null = null;
  let groupIntervalMs = 10_000;
  let spreadSites: number | undefined;
  const logs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--registry') registry = argv[++i] ?? null;
    else if (a === '--group-interval-ms') groupIntervalMs = Number(argv[++i]);
    else if (a === '--spread-sites') spreadSites = Number(argv[++i]);
    else logs.push(resolve(a));
  }
  if (registry === null || logs.length === 0 || !Number.isSafeInteger(groupIntervalMs) || groupIntervalMs < 0) {
    process.stderr.write('usage: alert-replay --registry FILE [--group-interval-ms N] [--spread-sites N] LOG...\n');
    return 2;
  }
  const { alerts, deliveries } = await replayAlerts(resolve(registry), logs, groupIntervalMs, spreadSites);
  const byKind = new Map<string, number>();
  for (const a of alerts) byKind.set(`${a.kind}${a.kind === 'spread' ? ` (${a.status})` : ''}`, (byKind.get(`${a.kind}${a.kind === 'spread' ? ` (${a.status})` : ''}`) ?? 0) + 1);
  process.stdout.write(`alerts raised: ${alerts.length} (${[...byKind].map(([k, n]) => `${n} ${k}`).join(', ')})\n`);
  const incident = alerts.find((a) => a.kind === 'spread' && a.status === 'firing');
  if (incident) {
    process.stdout.write(`incident (spread) raised at ${iso(incident.detected_at)} request time: ${incident.count} sites with a first violation since ${iso(incident.first_seen)}\n`);
    process.stdout.write(`  first sites: ${incident.sites.slice(0, 8).join(', ')}${incident.count > 8 ? ', …' : ''}\n`);
    const resolved = alerts.find((a) => a.resolves === incident.id);
    if (resolved) process.stdout.write(`  resolved at ${iso(resolved.ends_at!)}: ${resolved.count} sites in all, then no new site for an hour\n`);
    else process.stdout.write('  still open at the end of the logs\n');
  }
  // The busiest minutes of request time: alerts raised against deliveries one route makes.
  const perMinute = new Map<number, { alerts: number; deliveries: number }>();
  for (const a of alerts) {
    const m = Math.floor(a.detected_at / MINUTE) * MINUTE;
    const e = perMinute.get(m) ?? { alerts: 0, deliveries: 0 };
    e.alerts++;
    perMinute.set(m, e);
  }
  for (const d of deliveries) {
    const m = Math.floor(d.at / MINUTE) * MINUTE;
    const e = perMinute.get(m) ?? { alerts: 0, deliveries: 0 };
    e.deliveries++;
    perMinute.set(m, e);
  }
  const busiest = [...perMinute].sort((a, b) => b[1].alerts - a[1].alerts || a[0] - b[0]).slice(0, 6).sort((a, b) => a[0] - b[0]);
  process.stdout.write(`one route (group interval ${groupIntervalMs / 1000} s): ${deliveries.length} deliveries for ${alerts.length} alerts; the busiest minutes:\n`);
  for (const [m, e] of busiest) process.stdout.write(`  ${iso(m)}  ${String(e.alerts).padStart(4)} alerts → ${e.deliveries} deliveries\n`);
  const peak = Math.max(...[...perMinute.values()].map((e) => e.deliveries));
  process.stdout.write(`at most ${peak} deliveries in any minute (a page per site would have been up to ${Math.max(...[...perMinute.values()].map((e) => e.alerts))})\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runCli(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: Error) => { process.stderr.write(`alert-replay: ${err.message}\n`); process.exitCode = 1; });
}
