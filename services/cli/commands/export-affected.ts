// `leakscope export-affected`: the breach-notification list — every subscriber with a violation
// in the window, their number decrypted, the sites that received it, first and last exposure.
// It is the one output that holds personal data: it needs the encryption key, and a file it
// writes is owner-only (0600) and never one of the store's own files. A subscriber that cannot
// be listed (no ciphertext, one that does not decrypt, or one that decrypts to another number)
// does not cost the others: the rest is exported, that one is named on standard error by its
// masked number and first exposure, and the exit code is EXIT_PARTIAL.
import type { Command } from '../command.js';
import { EXIT_PARTIAL } from '../command.js';
import { parseCommandFlags } from '../flags.js';
import { LeakscopeError } from '../../core/errors.js';
import { ENC_KEY_MISMATCH, encKeyDiffers } from '../../keys/index.js';
import { FALLBACK_REGION, auditedAffected, checkReason, type Unlisted } from '../../audit/index.js';
import { renderAffectedCsv, type AffectedRow } from '../../render/index.js';
import { cliActor } from './who-saw.js';
import {
  STORE_FLAGS_USAGE, STORE_FLAG_OPTIONS, loadStoreKeys, noteLocation, openStore, resolveStoreLocation, type StoreOpener,
} from '../store-option.js';
import { parseRequiredWindow } from '../time.js';
import { OUTPUT_FILE_MODE, checkOutputPath, writeOutputFile } from '../output-file.js';

export const EXPORT_FILE_MODE = OUTPUT_FILE_MODE;

const EXPORT_FLAGS = {
  from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' }, reason: { type: 'string' }, ...STORE_FLAG_OPTIONS,
} as const;

const USAGE = `Usage: leakscope export-affected --from TIME --to TIME --reason TEXT [--out FILE] [--db PATH | --clickhouse URL]

The subscribers whose numbers reached a site that was not allowed to receive them in the
window [from, to), for breach notification. CSV with a header row:

  msisdn,sites,first_exposure,last_exposure,violations

msisdn is E.164 (+447700900123), decrypted; sites are joined with ';'. Rows are ordered by
first exposure, then number.

This output holds personal data. It needs the encryption key (LEAKSCOPE_ENC_KEY, or "enc_key"
in the key file next to the DuckDB store), and --out FILE is written with mode 0600 (owner
read and write only), replacing any file of that name that is yours; the store's own files, a
symlink and another user's file are refused.

A subscriber whose number cannot be decrypted (a corrupted value) is left out and named on
standard error by masked number and first exposure; everyone else is exported, and the exit
code is ${EXIT_PARTIAL}.

  --from TIME, --to TIME  ISO-8601 with a zone, or a date (00:00 UTC); the end is excluded
  --reason TEXT           why the list is exported, required: it is first written to the
                          store's audit (actor cli:<os user>)
  --out FILE              write to FILE (mode 0600) instead of standard output
${STORE_FLAGS_USAGE}
`;

export function createExportAffectedCommand(open: StoreOpener = openStore): Command {
  return {
    name: 'export-affected',
    summary: 'the affected subscribers of a window, numbers decrypted, as CSV for breach notification',
    usage: USAGE,
    async run(argv, io) {
      const { values, positionals } = parseCommandFlags('export-affected', argv, EXPORT_FLAGS);
      if (values.reason === undefined) {
        throw new LeakscopeError('USAGE', 'export-affected needs --reason TEXT (why the list is exported): it is kept in the audit');
      }
      if (positionals.length > 0) throw new LeakscopeError('USAGE', `export-affected takes no arguments, got ${JSON.stringify(positionals[0])}`);
      const window = parseRequiredWindow(values, 'export-affected');
      const location = resolveStoreLocation(values, io.env, io.cwd);
      noteLocation(location, (t) => io.stderr.write(t));
      // Before the store is opened: an output over the store's own files is refused at once.
      const outPath = values.out === undefined ? undefined : await checkOutputPath(values.out, io.cwd, location);

      const store = await open(location);
      let rows: AffectedRow[];
      let unlisted: Unlisted[];
      let unlistedLines: string[];
      let total: number;
      let counts: string;
      try {
        const meta = await store.readMeta();
        const reason = checkReason(values.reason, meta.region ?? FALLBACK_REGION, '--reason');
        const keys = await loadStoreKeys(location, meta, io.env, (w) => io.stderr.write(`warning: ${w}\n`));
        if (encKeyDiffers(meta, keys)) throw new LeakscopeError('KEY_INVALID', ENC_KEY_MISMATCH);
        ({ rows, unlisted, unlistedLines, total, counts } = await auditedAffected(store, store.auditTrail(), keys, {
          window, reason, by: cliActor(), command: 'export-affected',
        }));
      } finally {
        await store.close();
      }
      const text = renderAffectedCsv(rows);
      if (outPath === undefined) {
        io.stdout.write(text);
        io.stderr.write(`${rows.length} affected subscribers written to standard output: it holds personal data\n`);
      } else {
        await writeOutputFile(outPath, text);
        io.stderr.write(`${rows.length} affected subscribers written to ${outPath} (mode 0600, owner only: it holds personal data)\n`);
      }
      if (unlisted.length === 0) return 0;
      io.stderr.write(`leakscope export-affected: ${unlisted.length} of ${total} affected subscribers could not be listed and are NOT in the export ` +
        `(${counts}):\n`);
      for (const line of unlistedLines) io.stderr.write(`  - ${line}\n`);
      io.stderr.write(`exit code ${EXIT_PARTIAL}: the list is incomplete; notify these subscribers another way, or restore the store from a backup\n`);
      return EXIT_PARTIAL;
    },
  };
}

export const exportAffected = createExportAffectedCommand();
