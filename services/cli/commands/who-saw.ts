// `leakscope who-saw NUMBER`: every site that received one subscriber's number (trusted
// partners included, marked as such), when and how. The number is normalised with the region
// the data was stored with and looked up by its keyed hash; it is never stored or printed in
// full, only its masked form.
import type { Command } from '../command.js';
import { parseCommandFlags } from '../flags.js';
import { LeakscopeError } from '../../core/errors.js';
import { normalizeNumber } from '../../core/detect/index.js';
import { maskNumber, subscriberHash } from '../../core/privacy/index.js';
import { buildWhoSaw, type WhoSawJson } from '../../store/index.js';
import { renderWhoSawCsv, renderWhoSawTable } from '../../render/index.js';
import {
  STORE_FLAGS_USAGE, STORE_FLAG_OPTIONS, loadStoreKeys, noteLocation, openStore, resolveStoreLocation, type StoreOpener,
} from '../store-option.js';
import { parseWindow } from '../time.js';

export const WHO_SAW_FORMATS = ['table', 'json', 'csv'] as const;

const WHO_SAW_FLAGS = {
  from: { type: 'string' }, to: { type: 'string' }, format: { type: 'string', enum: WHO_SAW_FORMATS, default: 'table' }, ...STORE_FLAG_OPTIONS,
} as const;

/** Region for national numbers when the store records none (an empty store, or one written before meta existed). */
export const FALLBACK_REGION = 'GB';

const USAGE = `Usage: leakscope who-saw NUMBER [--from TIME] [--to TIME] [--format table|json|csv]
                        [--db PATH | --clickhouse URL]

Every site that received NUMBER, trusted partners included: one row per (host, verdict,
partner), with requests, channels, first and last seen, in order of first seen.

  NUMBER                  in any usual spelling: +44 7700 900123, 447700900123, 07700900123
                          (national numbers are read with the region the data was scanned with)
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

export function createWhoSawCommand(open: StoreOpener = openStore): Command {
  return {
    name: 'who-saw',
    summary: 'every site that received one subscriber\'s number, partners included (table, json, csv)',
    usage: USAGE,
    async run(argv, io) {
      const { values, positionals } = parseCommandFlags('who-saw', argv, WHO_SAW_FLAGS);
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
        const forms = normalizeNumber(raw, region);
        if (forms === null) {
          // The value is not echoed: a mistyped number is still close to someone's number.
          throw new LeakscopeError('NUMBER_INVALID',
            `cannot read the NUMBER given (${raw.length} characters) as a phone number of region ${region}: ` +
            'write it in international form (+447700900123 or 447700900123) or national form (07700900123)');
        }
        const keys = await loadStoreKeys(location, meta, io.env, (w) => io.stderr.write(`warning: ${w}\n`));
        const recipients = await store.whoSaw(subscriberHash(keys.hashKey, forms.e164), window);
        answer = buildWhoSaw(maskNumber(forms.e164), window, recipients);
      } finally {
        await store.close();
      }
      io.stdout.write(format === 'json' ? JSON.stringify(answer, null, 2) + '\n' : format === 'csv' ? renderWhoSawCsv(answer) : renderWhoSawTable(answer));
      return 0;
    },
  };
}

export const whoSaw = createWhoSawCommand();
