// `leakscope who-saw NUMBER`: every site that received one subscriber's number (trusted
// partners included, marked as such), when and how. The number is normalised with the region
// the data was stored with and looked up by its keyed hash; it is never stored or printed in
// full, only its masked form.
import { userInfo } from 'node:os';
import type { Command } from '../command.js';
import { parseCommandFlags } from '../flags.js';
import { LeakscopeError } from '../../core/errors.js';
import { FALLBACK_REGION, auditedWhoSaw, checkReason, readNumber } from '../../audit/index.js';
import type { WhoSawJson } from '../../store/index.js';
import { renderJson, renderWhoSawCsv, renderWhoSawTable } from '../../render/index.js';
import {
  STORE_FLAGS_USAGE, STORE_FLAG_OPTIONS, loadStoreKeys, noteLocation, openStore, resolveStoreLocation, type StoreOpener,
} from '../store-option.js';
import { parseWindow } from '../time.js';

export const WHO_SAW_FORMATS = ['table', 'json', 'csv'] as const;

export { FALLBACK_REGION };

const WHO_SAW_FLAGS = {
  from: { type: 'string' }, to: { type: 'string' }, format: { type: 'string', enum: WHO_SAW_FORMATS, default: 'table' },
  reason: { type: 'string' }, ...STORE_FLAG_OPTIONS,
} as const;

const USAGE = `Usage: leakscope who-saw NUMBER --reason TEXT [--from TIME] [--to TIME] [--format table|json|csv]
                        [--db PATH | --clickhouse URL]

Every site that received NUMBER, trusted partners included: one row per (host, verdict,
partner), with requests, channels, first and last seen, in order of first seen.

  NUMBER                  in any usual spelling: +44 7700 900123, 447700900123, 07700900123
                          (national numbers are read with the region the data was scanned with)
  --reason TEXT           why this lookup is made (e.g. a ticket id), required: every lookup
                          is first written to the store's audit (actor cli:<os user>); it must
                          not hold a phone number
  --from TIME, --to TIME  narrow to a window [from, to); ISO-8601 with a zone, or a date (UTC)
  --format FORMAT         table (default), json (the contract object), csv
${STORE_FLAGS_USAGE}

Keys: the hash key comes from LEAKSCOPE_HASH_KEY, else from the key file next to the DuckDB
store; it must be the key the data was scanned with.
`;

// Digit groups typed without quotes arrive as several arguments: `who-saw +44 7700 900123`.
const NUMBER_PART = /^[+(]?[\d().-]+$/;

function numberArgument(positionals: readonly string[]): string {
  if (positionals.length === 0) throw new LeakscopeError('USAGE', 'who-saw needs the subscriber NUMBER, e.g. leakscope who-saw +447700900123');
  if (positionals.length === 1 || positionals.every((p) => NUMBER_PART.test(p))) return positionals.join(' ');
  throw new LeakscopeError('USAGE', `who-saw takes one NUMBER, got ${positionals.length} arguments; quote a number written with spaces`);
}

/** Who the audit names for a CLI lookup: the OS user, who reads the store with its own keys. */
export function cliActor(): { actor: string; role: string } {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (a container's arbitrary uid): the uid still identifies the account.
    name = `uid-${process.getuid?.() ?? 'unknown'}`;
  }
  return { actor: `cli:${name}`, role: 'cli' };
}

export function createWhoSawCommand(open: StoreOpener = openStore): Command {
  return {
    name: 'who-saw',
    summary: 'every site that received one subscriber\'s number, partners included (table, json, csv)',
    usage: USAGE,
    async run(argv, io) {
      const { values, positionals } = parseCommandFlags('who-saw', argv, WHO_SAW_FLAGS);
      if (values.reason === undefined) {
        throw new LeakscopeError('USAGE', 'who-saw needs --reason TEXT (why this lookup is made, e.g. a ticket id): it is kept in the audit');
      }
      const raw = numberArgument(positionals);
      const format = values.format;
      const window = parseWindow(values);
      const location = resolveStoreLocation(values, io.env, io.cwd);
      noteLocation(location, (t) => io.stderr.write(t));

      const store = await open(location);
      let answer: WhoSawJson;
      try {
        const meta = await store.readMeta();
        const region = meta.region ?? FALLBACK_REGION;
        if (meta.region === null) io.stderr.write(`the store records no region; national numbers are read as ${FALLBACK_REGION}\n`);
        const reason = checkReason(values.reason, region, '--reason');
        const e164 = readNumber(raw, region);
        const keys = await loadStoreKeys(location, meta, io.env, (w) => io.stderr.write(`warning: ${w}\n`));
        ({ answer } = await auditedWhoSaw(store, store.auditTrail(), keys, { e164, window, reason, by: cliActor() }));
      } finally {
        await store.close();
      }
      io.stdout.write(format === 'json' ? renderJson(answer) : format === 'csv' ? renderWhoSawCsv(answer) : renderWhoSawTable(answer));
      return 0;
    },
  };
}

export const whoSaw = createWhoSawCommand();
