import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LeakscopeError } from '../../../services/core/errors.js';
import { loadNotifyConfig, notifyConfig } from '../../../services/notify/index.js';

const env = { SOC_SECRET: 'a-secret-of-32-bytes-for-the-soc', SHORT: 'short' };

function refusal(fn: () => unknown): LeakscopeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LeakscopeError);
    return err as LeakscopeError;
  }
  throw new Error('expected a refusal');
}

describe('notify.yaml', () => {
  it('fills in the defaults, takes the secret from the environment and freezes the result', () => {
    const c = notifyConfig({ routes: [{ name: 'soc', url: 'https://soc.example/hooks/leakscope', format: 'leakscope', secret_env: 'SOC_SECRET' }] }, env);
    const r = c.routes[0]!;
    expect(r).toMatchObject({ name: 'soc', format: 'leakscope', secret: env.SOC_SECRET, secretEnv: 'SOC_SECRET', groupIntervalMs: 10_000, groupWaitMs: 0, timeoutMs: 5000 });
    expect(r.retry).toEqual({ initialMs: 500, maxMs: 30_000, budgetMs: 300_000, maxAttempts: 10 });
    expect([...r.kinds].sort()).toEqual(['first_disclosure', 'partner_drift', 'partner_inactive', 'spread']);
    expect(Object.isFrozen(c.routes)).toBe(true);
    expect(Object.isFrozen(r)).toBe(true);
  });

  it('names every problem at once, by its path', () => {
    const e = refusal(() => notifyConfig({
      routes: [
        { name: 'soc', url: 'https://soc.example/h', format: 'leakscope' },
        { name: 'soc', url: 'ftp://x.example/', format: 'cloudevents', secret_env: 'MISSING' },
        { name: 'am', url: 'http://127.0.0.1:9093', format: 'alertmanager', secret_env: 'SOC_SECRET' },
        { name: 'weak', url: 'https://u:p@w.example/', format: 'leakscope', secret_env: 'SHORT', retry: { initial_ms: 5000, max_ms: 100 } },
      ],
    }, env));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.problems).toEqual([
      'routes[0].secret_env: the leakscope format is signed; name the environment variable holding the route\'s secret',
      'routes[1].name: "soc" is used by an earlier route; names must be unique',
      'routes[1].url: "ftp://x.example/" is not an http or https URL',
      'routes[1].secret_env: environment variable MISSING is not set',
      'routes[2].secret_env: the alertmanager format is not signed (Alertmanager checks no signature); remove secret_env',
      'routes[3].url: credentials in the URL are refused (the file is not a place for secrets)',
      'routes[3].secret_env: SHORT holds 5 bytes; a signing secret needs at least 16',
      'routes[3].retry: initial_ms 5000 is more than max_ms 100',
    ]);
  });

  it('refuses unknown keys, wrong types and unknown kinds, naming each', () => {
    const e = refusal(() => notifyConfig({
      routes: [{ name: 'x', url: 'https://x.example', format: 'slack', kinds: ['spread', 'everything'], group_interval_ms: -1, secret: 'inline', retry: { budget_ms: 'soon' } }],
      extra: true,
    }, env));
    expect(e.problems).toEqual(expect.arrayContaining([
      '(top level): unknown key "extra"',
      'routes[0]: unknown key "secret"',
      'routes[0].format: "slack" is not one of leakscope, alertmanager, cloudevents',
      'routes[0].kinds[1]: "everything" is not one of first_disclosure, spread, partner_drift, partner_inactive',
      'routes[0].group_interval_ms: -1 must be >= 0',
      'routes[0].retry.budget_ms: "soon" must be integer',
    ]));
    expect(refusal(() => notifyConfig({ routes: [] }, env)).problems).toEqual(['routes: [] must NOT have fewer than 1 items']);
    // A shape problem in one route does not hide the other routes' problems.
    expect(refusal(() => notifyConfig({ routes: [{ name: 'soc', url: 'https://s.example', format: 'leakscope', secret_env: 'UNSET' }, { name: 'x', url: 'https://x.example', format: 'slack' }] }, env)).problems).toEqual([
      'routes[1].format: "slack" is not one of leakscope, alertmanager, cloudevents',
      'routes[0].secret_env: environment variable UNSET is not set',
    ]);
  });

  it('reads a file, and refuses a YAML error or a missing file with the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'notify-config-'));
    try {
      const good = join(dir, 'notify.yaml');
      writeFileSync(good, 'routes:\n  - name: am\n    url: http://127.0.0.1:9093/\n    format: alertmanager\n    kinds: [spread]\n');
      expect([...(await loadNotifyConfig(good, {})).routes[0]!.kinds]).toEqual(['spread']);
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, 'routes:\n  - name: a\n    name: b\n');
      await expect(loadNotifyConfig(bad, {})).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: `notify config ${bad} is invalid: 1 problem` });
      await expect(loadNotifyConfig(join(dir, 'none.yaml'), {})).rejects.toMatchObject({ code: 'INPUT_UNREADABLE' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
