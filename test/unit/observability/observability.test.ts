import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { componentLogger, createLogger, createMetrics, parseMetricsPort, startTelemetryServer } from '../../../services/observability/index.js';

describe('telemetry', () => {
  it('writes JSON lines with the component and a fixed event message', async () => {
    const lines: string[] = [];
    const destination = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
    const log = componentLogger(createLogger({ destination, level: 'info' }), 'detector', { group: 'g' });
    log.info({ records: 3 }, 'batch written');
    await new Promise((r) => setImmediate(r));
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 'info', component: 'detector', group: 'g', records: 3, msg: 'batch written', service: 'leakscope' });
  });

  it('serves /metrics with the stream metrics and /healthz from the health callback', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.recordsIn.inc({ source: 'kafka' }, 5);
    metrics.disclosures.inc({ verdict: 'unauthorized_recipient' }, 2);
    metrics.insertSeconds.observe({ outcome: 'ok' }, 0.01);
    let ok = true;
    const server = await startTelemetryServer(metrics, () => ({ ok, details: { registry_version: 'v1' } }), { port: 0 });
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      for (const name of ['leakscope_records_in_total', 'leakscope_rejects_total', 'leakscope_disclosures_total', 'leakscope_batch_size', 'leakscope_insert_seconds', 'leakscope_consumer_lag']) {
        expect(text).toContain(`# TYPE ${name}`);
      }
      expect(text).toContain('leakscope_disclosures_total{verdict="unauthorized_recipient"} 2');
      const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok', registry_version: 'v1' });
      ok = false;
      expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(503);
      expect((await fetch(`http://127.0.0.1:${server.port}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it.each([[undefined, 0], ['0', 0], ['9464', 9464]])('reads --metrics-port %s as %s', (value, port) => {
    expect(parseMetricsPort(value)).toBe(port);
  });

  it('refuses a port that is not one', () => {
    expect(() => parseMetricsPort('http')).toThrow(/--metrics-port "http": expected a whole number from 0 to 65535/);
  });
});
