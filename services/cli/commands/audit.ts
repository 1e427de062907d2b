// `leakscope audit` lists the audit of who-saw and affected lookups; `leakscope audit verify`
// checks its hash chain and names the first entry changed, removed or reordered. The embedded
// store's audit is read from its file without opening the DuckDB file, so both work while a
// scan holds the store.
import type { CliIo, Command } from '../command.js';
import { parseCommandFlags } from '../flags.js';
import { LeakscopeError } from '../../core/errors.js';
import { NdjsonAuditTrail, auditFileFor, parseEntry, verifyChain, type AuditEntry } from '../../audit/index.js';
import type { AuditTrail } from '../../store/types.js';
import { cleanText, renderJson } from '../../render/index.js';
import { STORE_FLAGS_USAGE, STORE_FLAG_OPTIONS, noteLocation, openStore, resolveStoreLocation, type StoreLocation } from '../store-option.js';
import { parseWindow } from '../time.js';

const AUDIT_FLAGS = {
  from: { type: 'string' }, to: { type: 'string' }, format: { type: 'string', enum: ['table', 'json'], default: 'table' }, ...STORE_FLAG_OPTIONS,
} as const;
const AUDIT_VERIFY_FLAGS = { ...STORE_FLAG_OPTIONS } as const;

async function openTrail(location: StoreLocation): Promise<{ trail: AuditTrail; close: () => Promise<void> }> {
  if (location.kind === 'duckdb') return { trail: new NdjsonAuditTrail(auditFileFor(location.path)), close: async () => undefined };
  const store = await openStore(location);
  return { trail: store.auditTrail(), close: () => store.close() };
}

/** The audit's lines, read whole; the store (ClickHouse) is closed again before anything is judged. */
async function readTrail(location: StoreLocation, io: CliIo): Promise<{ trail: AuditTrail; lines: string[] }> {
  noteLocation(location, (t) => io.stderr.write(t));
  const { trail, close } = await openTrail(location);
  try {
    return { trail, lines: await trail.lines() };
  } finally {
    await close();
  }
}

function table(entries: readonly AuditEntry[]): string {
  const header = ['seq', 'at', 'actor', 'role', 'action', 'window', 'results', 'reason'];
  const rows = entries.map((e) => [
    String(e.seq), e.at, cleanText(e.actor), e.role, e.action, `${e.window.from ?? '…'} – ${e.window.to ?? '…'}`, String(e.results), cleanText(e.reason),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export const auditList: Command = {
  name: 'audit',
  summary: 'the audit of who-saw and affected lookups: who looked, at what, why (table, json)',
  usage: `Usage: leakscope audit [--from TIME] [--to TIME] [--format table|json] [--db PATH | --clickhouse URL]

Every who-saw and affected lookup, from the API or the CLI, oldest first: time, actor
(user name, or cli:<os user>), role, action, window, number of results and reason. An entry
holds the keyed hash of the subscriber looked up, never the number.

  --from TIME, --to TIME  only entries made in [from, to)
  --format FORMAT         table (default) or json (one object per entry, as stored)
${STORE_FLAGS_USAGE}
`,
  async run(argv, io) {
    const { values, positionals } = parseCommandFlags('audit', argv, AUDIT_FLAGS);
    if (positionals.length > 0) throw new LeakscopeError('USAGE', `audit takes no arguments, got ${JSON.stringify(positionals[0])}; did you mean leakscope audit verify?`);
    const format = values.format;
    const window = parseWindow(values);
    const { trail, lines } = await readTrail(resolveStoreLocation(values, io.env, io.cwd), io);
    const entries: AuditEntry[] = [];
    for (const [i, line] of lines.entries()) {
      const entry = parseEntry(line);
      if (entry === null) throw new LeakscopeError('AUDIT_TAMPERED', `${trail.location}: line ${i + 1} is not an audit entry; run leakscope audit verify`);
      const at = Date.parse(entry.at);
      if ((window.from === null || at >= window.from) && (window.to === null || at < window.to)) entries.push(entry);
    }
    io.stdout.write(format === 'json' ? renderJson(entries) : table(entries));
    return 0;
  },
};

export const auditVerify: Command = {
  name: 'audit verify',
  summary: 'check the audit\'s hash chain: names the first entry changed, removed or reordered',
  usage: `Usage: leakscope audit verify [--db PATH | --clickhouse URL]

Checks that every entry still gives its own hash and follows the one before it. Exits 0 and
prints the number of entries and the hash of the last one (keep it elsewhere: an audit cut at
its end is only caught against a head recorded before), or exits 1 naming the first entry
that was changed, removed or reordered.
${STORE_FLAGS_USAGE}
`,
  async run(argv, io) {
    const { values, positionals } = parseCommandFlags('audit verify', argv, AUDIT_VERIFY_FLAGS);
    if (positionals.length > 0) throw new LeakscopeError('USAGE', 'audit verify takes no arguments');
    const { trail, lines } = await readTrail(resolveStoreLocation(values, io.env, io.cwd), io);
    const result = verifyChain(lines);
    if (!result.ok) throw new LeakscopeError('AUDIT_TAMPERED', `${trail.location}: ${result.problem}`);
    io.stdout.write(`${trail.location}: ${result.entries} entries, chain intact; head ${result.head}\n`);
    return 0;
  },
};
