import { describe, expect, it } from 'vitest';
import { GENESIS, checkReason, formatEntry, nextEntry, parseEntry, verifyChain, type AuditDraft, type AuditEntry } from '../../../services/audit/index.js';

const draft = (n: number): AuditDraft => ({
  actor: 'alice', role: 'investigator', action: 'who-saw', subscriberHash: 'ab'.repeat(32),
  window: { from: null, to: '2012-01-26T00:00:00.000Z' }, reason: `ticket INC-${n}`, results: n,
});

function chain(n: number): string[] {
  const lines: string[] = [];
  let previous: AuditEntry | null = null;
  for (let i = 1; i <= n; i++) {
    previous = nextEntry(previous, draft(i), Date.UTC(2026, 0, 1, 0, 0, i));
    lines.push(formatEntry(previous));
  }
  return lines;
}

describe('audit chain', () => {
  it('numbers entries from 1, starts from the genesis hash and links each to the one before', () => {
    const entries = chain(3).map((l) => parseEntry(l)!);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(entries[0]!.prev).toBe(GENESIS);
    expect(entries[1]!.prev).toBe(entries[0]!.hash);
    expect(entries[2]!.prev).toBe(entries[1]!.hash);
  });

  it('writes a line that is exactly JSON.stringify of the entry, whatever its reason holds', () => {
    const entry = nextEntry(null, { ...draft(1), reason: 'ticket "INC-1" \\ \u2028 ünïcode \u0007 {"x":1}', window: { from: null, to: null } }, 0);
    const line = formatEntry(entry);
    expect(line).toBe(JSON.stringify(entry));
    expect(parseEntry(line)).toEqual(entry);
  });

  it('keeps the fields of the contract in this order, and nothing else', () => {
    expect(Object.keys(JSON.parse(chain(1)[0]!))).toEqual(['seq', 'at', 'actor', 'role', 'action', 'subscriber_hash', 'window', 'reason', 'results', 'prev', 'hash']);
  });

  it('verifies an intact chain and gives its head', () => {
    const lines = chain(5);
    expect(verifyChain(lines)).toEqual({ ok: true, entries: 5, head: parseEntry(lines[4]!)!.hash });
    expect(verifyChain([])).toEqual({ ok: true, entries: 0, head: GENESIS });
  });

  it.each([
    ['an edited entry', (l: string[]) => l.map((x, i) => (i === 2 ? x.replace('INC-3', 'INC-8') : x)), /entry 3 \(line 3\) was changed/],
    ['an edited last entry', (l: string[]) => l.map((x, i) => (i === 4 ? x.replace('"results":5', '"results":0') : x)), /entry 5 \(line 5\) was changed/],
    ['a removed entry', (l: string[]) => l.filter((_x, i) => i !== 1), /entry 2 was removed: line 2 holds entry 3/],
    ['two removed entries', (l: string[]) => l.filter((_x, i) => i !== 1 && i !== 2), /entry 2 was removed \(and 1 after it\)/],
    ['a swapped pair', (l: string[]) => [l[0]!, l[2]!, l[1]!, l[3]!, l[4]!], /entry 2 was removed: line 2 holds entry 3/],
    ['a removed first entry', (l: string[]) => l.slice(1), /entry 1 was removed/],
    ['a line that is not an entry', (l: string[]) => [...l.slice(0, 3), 'garbage', ...l.slice(3)], /line 4 is not an audit entry/],
  ])('names the first problem for %s', (_name, tamper, message) => {
    const result = verifyChain(tamper(chain(5)));
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.problem).toMatch(message);
  });

  it('catches an entry rewritten with a fresh hash by the broken link after it', () => {
    const lines = chain(4);
    const forged = { ...parseEntry(lines[1]!)!, reason: 'innocent' };
    const { hash: _old, ...body } = forged;
    const rehashed = nextEntry(parseEntry(lines[0]!)!, { ...draft(2), reason: 'innocent' }, Date.parse(forged.at));
    expect(body.reason).toBe(rehashed.reason);
    lines[1] = formatEntry(rehashed);
    const result = verifyChain(lines);
    expect(result.ok ? '' : result.problem).toMatch(/entry 3 \(line 3\) does not follow entry 2/);
  });
});

describe('reasons', () => {
  it('are required, one line, bounded and without a phone number', () => {
    expect(checkReason('  ticket INC-4711 ', 'GB')).toBe('ticket INC-4711');
    expect(() => checkReason(undefined, 'GB')).toThrow(/required/);
    expect(() => checkReason('  ', 'GB')).toThrow(/required/);
    expect(() => checkReason('a\nb', 'GB')).toThrow(/one line/);
    expect(() => checkReason('x'.repeat(501), 'GB')).toThrow(/at most 500/);
    for (const n of ['+44 7700 900123', '07700900123', 'caller 447700900123']) expect(() => checkReason(n, 'GB')).toThrow(/must not hold a phone number/);
  });
});
