// `leakscope audit` and `audit verify` on the embedded store's audit file: the lookups listed
// with their reasons, the chain checked, and an edited entry named.
import { readFile, writeFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, makeStore, run, type Fixture } from './query-fixture.js';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await makeStore();
  for (const [number, reason] of [[ALICE, 'ticket INC-1'], [BOB, 'ticket INC-2']] as const) {
    expect((await run(['who-saw', number, '--reason', reason, '--db', fixture.db])).code).toBe(0);
  }
});

describe('leakscope audit', () => {
  it('lists each lookup with its reason, as a table and as JSON', async () => {
    const table = await run(['audit', '--db', fixture.db]);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^seq\s+at\s+actor\s+role\s+action\s+window\s+results\s+reason$/);
    expect(table.stdout).toMatch(/ticket INC-1\n.*ticket INC-2\n$/);
    const json = JSON.parse((await run(['audit', '--format', 'json', '--db', fixture.db])).stdout) as Array<{ seq: number; reason: string }>;
    expect(json.map((e) => [e.seq, e.reason])).toEqual([[1, 'ticket INC-1'], [2, 'ticket INC-2']]);
  });

  it('verifies the chain, then names the entry edited afterwards', async () => {
    const ok = await run(['audit', 'verify', '--db', fixture.db]);
    expect([ok.code, ok.stdout]).toEqual([0, expect.stringMatching(/: 2 entries, chain intact; head [0-9a-f]{64}\n$/)]);
    const file = `${fixture.db}.audit.ndjson`;
    await writeFile(file, (await readFile(file, 'utf8')).replace('ticket INC-1', 'ticket INC-9'));
    const tampered = await run(['audit', 'verify', '--db', fixture.db]);
    expect(tampered.code).not.toBe(0);
    expect(tampered.stderr).toMatch(/entry 1|line 1/);
  });
});
