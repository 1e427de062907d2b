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
import { decryptNumber, requireEncKey, subscriberHash, type PrivacyKeys } from '../../core/privacy/index.js';
import { ENC_KEY_MISMATCH, encKeyDiffers } from '../../keys/index.js';
import { byteCompare, iso } from '../../store/index.js';
import type { AffectedSubscriber, DisclosureStore } from '../../store/types.js';
import { renderAffectedCsv, type AffectedRow } from '../../render/index.js';
import {
  STORE_FLAGS_USAGE, STORE_FLAG_OPTIONS, loadStoreKeys, noteLocation, openStore, resolveStoreLocation, type StoreOpener,
} from '../store-option.js';
import { parseRequiredWindow } from '../time.js';
import { OUTPUT_FILE_MODE, checkOutputPath, writeOutputFile } from '../output-file.js';

export const EXPORT_FILE_MODE = OUTPUT_FILE_MODE;

const EXPORT_FLAGS = { from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' }, ...STORE_FLAG_OPTIONS } as const;

/** Subscribers named one by one on standard error at most; the rest are counted. */
const MAX_NAMED = 50;

const USAGE = `Usage: leakscope export-affected --from TIME --to TIME [--out FILE] [--db PATH | --clickhouse URL]

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
  --out FILE              write to FILE (mode 0600) instead of standard output
${STORE_FLAGS_USAGE}
`;

type Unlisted = { subscriber: AffectedSubscriber; reason: UnlistedReason };
type UnlistedReason = 'no-ciphertext' | 'undecryptable' | 'other-number';

/** Why a subscriber is not listed: [said of one, said of several]. */
const REASON_TEXT: Record<UnlistedReason, readonly [string, string]> = {
  'no-ciphertext': ['was stored without its encrypted number', 'were stored without their encrypted number'],
  undecryptable: ['has an encrypted number that does not decrypt', 'have an encrypted number that does not decrypt'],
  'other-number': ['has an encrypted number that decrypts to another subscriber\'s number (the stored value was swapped)',
    'have an encrypted number that decrypts to another subscriber\'s number (the stored values were swapped)'],
};

/** Decrypts each subscriber's number, checked against its keyed hash; what fails is returned, not thrown. */
function decryptAll(affected: readonly AffectedSubscriber[], keys: PrivacyKeys, encKey: Buffer): { rows: AffectedRow[]; unlisted: Unlisted[] } {
  const rows: AffectedRow[] = [];
  const unlisted: Unlisted[] = [];
  for (const a of affected) {
    if (a.subscriberEnc === '') {
      unlisted.push({ subscriber: a, reason: 'no-ciphertext' });
      continue;
    }
    let msisdn: string;
    try {
      msisdn = decryptNumber(encKey, a.subscriberEnc);
    } catch {
      unlisted.push({ subscriber: a, reason: 'undecryptable' });
      continue;
    }
    if (subscriberHash(keys.hashKey, msisdn) !== a.subscriberHash) {
      unlisted.push({ subscriber: a, reason: 'other-number' });
      continue;
    }
    rows.push({ msisdn, sites: [...a.sites].sort(byteCompare), firstExposure: iso(a.firstSeen), lastExposure: iso(a.lastSeen), violations: a.violations });
  }
  return { rows, unlisted };
}

/** One line per unlisted subscriber (up to MAX_NAMED): masked number, first exposure, reason. */
async function describeUnlisted(store: DisclosureStore, unlisted: readonly Unlisted[]): Promise<string[]> {
  const named = [...unlisted].sort((a, b) => a.subscriber.firstSeen - b.subscriber.firstSeen).slice(0, MAX_NAMED);
  const masked = store.maskedSubscribers === undefined ? new Map<string, string>()
    : await store.maskedSubscribers(named.map((u) => u.subscriber.subscriberHash));
  const lines = named.map(({ subscriber: s, reason }) => {
    // The hash prefix names a subscriber the store holds no masked form of; it reveals nothing of the number.
    const who = masked.get(s.subscriberHash) ?? `subscriber hash ${s.subscriberHash.slice(0, 16)}…`;
    return `${who}, first exposure ${iso(s.firstSeen)}: ${REASON_TEXT[reason][0]}`;
  });
  if (unlisted.length > named.length) lines.push(`… and ${unlisted.length - named.length} more`);
  return lines;
}

function countsByReason(unlisted: readonly Unlisted[], total: number): string {
  const counts = new Map<UnlistedReason, number>();
  for (const u of unlisted) counts.set(u.reason, (counts.get(u.reason) ?? 0) + 1);
  return [...counts].map(([reason, n]) => `${n} of ${total} affected subscribers ${REASON_TEXT[reason][n === 1 ? 0 : 1]}`).join('; ');
}

export function createExportAffectedCommand(open: StoreOpener = openStore): Command {
  return {
    name: 'export-affected',
    summary: 'the affected subscribers of a window, numbers decrypted, as CSV for breach notification',
    usage: USAGE,
    async run(argv, io) {
      const { values, positionals } = parseCommandFlags('export-affected', argv, EXPORT_FLAGS);
      if (positionals.length > 0) throw new LeakscopeError('USAGE', `export-affected takes no arguments, got ${JSON.stringify(positionals[0])}`);
      const window = parseRequiredWindow(values, 'export-affected');
      const location = resolveStoreLocation(values, io.env, io.cwd);
      noteLocation(location, (t) => io.stderr.write(t));
      // Before the store is opened: an output over the store's own files is refused at once.
      const outPath = values.out === undefined ? undefined : await checkOutputPath(values.out, io.cwd, location);

      const store = await open(location);
      let rows: AffectedRow[];
      let unlisted: Unlisted[];
      let unlistedLines: string[] = [];
      let total: number;
      try {
        const meta = await store.readMeta();
        const keys = await loadStoreKeys(location, meta, io.env, (w) => io.stderr.write(`warning: ${w}\n`));
        const encKey = requireEncKey(keys, 'export-affected');
        if (encKeyDiffers(meta, keys)) throw new LeakscopeError('KEY_INVALID', ENC_KEY_MISMATCH);
        const affected = await store.affected(window);
        total = affected.length;
        ({ rows, unlisted } = decryptAll(affected, keys, encKey));
        if (unlisted.length > 0) unlistedLines = await describeUnlisted(store, unlisted);
      } finally {
        await store.close();
      }
      if (unlisted.length > 0 && rows.length === 0) {
        // Nothing could be listed: no file is written, and the cause is most likely one for all.
        const keyHint = unlisted.every((u) => u.reason === 'undecryptable')
          ? ': could not decrypt: wrong key or corrupted value; check LEAKSCOPE_ENC_KEY (or the key file) is the one the data was stored with'
          : unlisted.every((u) => u.reason === 'no-ciphertext') ? ', so they cannot be listed: scan the logs again with the encryption key set' : '';
        throw new LeakscopeError('KEY_INVALID', `${countsByReason(unlisted, total)}${keyHint}`, { problems: unlistedLines });
      }
      rows.sort((a, b) => byteCompare(a.firstExposure, b.firstExposure) || byteCompare(a.msisdn, b.msisdn));
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
        `(${countsByReason(unlisted, total)}):\n`);
      for (const line of unlistedLines) io.stderr.write(`  - ${line}\n`);
      io.stderr.write(`exit code ${EXIT_PARTIAL}: the list is incomplete; notify these subscribers another way, or restore the store from a backup\n`);
      return EXIT_PARTIAL;
    },
  };
}

export const exportAffected = createExportAffectedCommand();
