// `leakscope export-affected`: the breach-notification list — every subscriber with a violation
// in the window, their number decrypted, the sites that received it, first and last exposure.
// It is the one output that holds personal data: it needs the encryption key, and a file it
// writes is created owner-only (0600).
import { constants as fsConstants } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from '../command.js';
import { parseFlags } from '../command.js';
import { LeakscopeError } from '../../core/errors.js';
import { FALLBACK_REGION, auditedAffected, checkReason } from '../../audit/index.js';
import { renderAffectedCsv, type AffectedRow } from '../../render/index.js';
import { cliActor } from './who-saw.js';
import {
  STORE_FLAGS_USAGE, STORE_FLAG_OPTIONS, loadStoreKeys, noteLocation, openStore, resolveStoreLocation, type StoreOpener,
} from '../store-option.js';
import { parseRequiredWindow } from '../time.js';

export const EXPORT_FILE_MODE = 0o600;

const USAGE = `Usage: leakscope export-affected --from TIME --to TIME --reason TEXT [--out FILE] [--db PATH | --clickhouse URL]

The subscribers whose numbers reached a site that was not allowed to receive them in the
window [from, to), for breach notification. CSV with a header row:

  msisdn,sites,first_exposure,last_exposure,violations

msisdn is E.164 (+447700900123), decrypted; sites are joined with ';'. Rows are ordered by
first exposure, then number.

This output holds personal data. It needs the encryption key (LEAKSCOPE_ENC_KEY, or "enc_key"
in the key file next to the DuckDB store), and --out FILE is written with mode 0600 (owner
read and write only), replacing any file of that name.

  --from TIME, --to TIME  ISO-8601 with a zone, or a date (00:00 UTC); the end is excluded
  --reason TEXT           why the list is exported, required: it is first written to the
                          store's audit (actor cli:<os user>)
  --out FILE              write to FILE (mode 0600) instead of standard output
${STORE_FLAGS_USAGE}
`;

/** Writes `text` to a new or truncated file that only the owner can read, whatever the umask or the old file's mode. */
async function writePrivate(path: string, text: string): Promise<void> {
  let handle;
  try {
    handle = await openFile(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC, EXPORT_FILE_MODE);
  } catch (cause) {
    throw new LeakscopeError('INPUT_UNREADABLE', `--out ${path}: cannot write: ${(cause as Error).message}`, { cause });
  }
  try {
    // An existing file keeps its old mode on open: narrow it before a byte of personal data goes in.
    await handle.chmod(EXPORT_FILE_MODE);
    await handle.truncate(0);
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function createExportAffectedCommand(open: StoreOpener = openStore): Command {
  return {
    name: 'export-affected',
    summary: 'the affected subscribers of a window, numbers decrypted, as CSV for breach notification',
    usage: USAGE,
    async run(argv, io) {
      const { values, positionals } = parseFlags('export-affected', argv, {
        from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' }, reason: { type: 'string' }, ...STORE_FLAG_OPTIONS,
      });
      if (values.reason === undefined) {
        throw new LeakscopeError('USAGE', 'export-affected needs --reason TEXT (why the list is exported): it is kept in the audit');
      }
      if (positionals.length > 0) throw new LeakscopeError('USAGE', `export-affected takes no arguments, got ${JSON.stringify(positionals[0])}`);
      const window = parseRequiredWindow(values, 'export-affected');
      const location = resolveStoreLocation(values, io.env, io.cwd);
      noteLocation(location, (t) => io.stderr.write(t));

      const store = await open(location);
      let rows: AffectedRow[];
      try {
        const meta = await store.readMeta();
        const reason = checkReason(values.reason, meta.region ?? FALLBACK_REGION, '--reason');
        const keys = await loadStoreKeys(location, meta, io.env, (w) => io.stderr.write(`warning: ${w}\n`));
        ({ rows } = await auditedAffected(store, store.auditTrail(), keys, { window, reason, by: cliActor(), command: 'export-affected' }));
      } finally {
        await store.close();
      }
      const text = renderAffectedCsv(rows);
      if (values.out === undefined) {
        io.stdout.write(text);
        io.stderr.write(`${rows.length} affected subscribers written to standard output: it holds personal data\n`);
      } else {
        const path = resolve(io.cwd, values.out);
        await writePrivate(path, text);
        io.stderr.write(`${rows.length} affected subscribers written to ${path} (mode 0600, owner only: it holds personal data)\n`);
      }
      return 0;
    },
  };
}

export const exportAffected = createExportAffectedCommand();
