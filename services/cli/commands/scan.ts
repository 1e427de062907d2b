// `leakscope scan`: reads gateway logs, judges every request against the partner registry
// and stores the disclosures in the embedded DuckDB file. Flags, defaults and key handling
// live here; the work is services/scan's scanFiles.
import { constants as fsConstants, existsSync, rmSync } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LeakscopeError } from '../../core/errors.js';
import { loadKeys } from '../../keys/index.js';
import { ScanInterrupted, checkInputList, inspectInputs, scanFiles, type ScanSummary } from '../../scan/index.js';
import { openDuckDbStore } from '../../store/duckdb/index.js';
import { readRegistryFile } from '../../files/index.js';
import { refuseProtectedOutput, storeFiles } from '../../files/safe-file.js';
import type { Command } from '../command.js';
import { parseCommandFlags } from '../flags.js';
import { LOG_FORMAT_FLAGS_USAGE, LOG_FORMAT_FLAG_OPTIONS, resolveLogFormat } from '../log-format-option.js';
import { createProgress, formatCount } from '../progress.js';
import { DEFAULT_DB } from '../store-option.js';
import { cleanText } from '../../render/index.js';
import { safeJson } from '../../core/visible-text.js';

/** Read when --registry is not given and it exists in the working directory. */
export const DEFAULT_REGISTRY = 'registry.yaml';
/** Exit code after Ctrl-C, as shells report a process killed by SIGINT. */
const EXIT_INTERRUPTED = 130;
/** Some input was read only in part (README, "Exit codes"): 2, as refused input, with the summary printed. */
const EXIT_REFUSED_IN_PART = 2;

const USAGE = `Usage: leakscope scan [--registry FILE] [--format F | --profile FILE] [--db PATH] [--rejects FILE] [--json] FILE...|-

Reads gateway access logs (NDJSON, W3C, Squid, CSV/TSV; plain or gzip; - for stdin), judges every request
against the partner registry as it was at the request's time, and stores each disclosure in
an embedded DuckDB file for \`leakscope report\` and \`leakscope who-saw\`.

Options:
  --registry FILE   the partner registry (YAML or JSON); default ./${DEFAULT_REGISTRY} when it exists.
                    Required otherwise: without one, every recipient would be judged unauthorised.
${LOG_FORMAT_FLAGS_USAGE}
  --db PATH         the DuckDB store, created when missing (default ./${DEFAULT_DB})
  --rejects FILE    where lines that cannot be read are appended as NDJSON
                    {source, line, reason, raw} (default <db>.rejects.ndjson; owner-only,
                    since raw lines hold subscribers' numbers)
  --workers N       worker threads that parse and judge inputs over 64 MiB of files (a big
                    plain file is cut into byte ranges, a gzip file is one piece); the main
                    thread writes the store. Default: one per CPU; 0 = all in one
                    thread. Stdin is always read in one thread.
  --json            print the summary as one JSON object:
                    {lines, requests, disclosures, violations, rejected, faulted, not_forwarded,
                    unread_fields: [{file, fields}], db, rejects_file, elapsed_ms}

Privacy keys: LEAKSCOPE_HASH_KEY (and LEAKSCOPE_ENC_KEY for export-affected) from the
environment, else the key file <db>.keys.json, created owner-only on the first scan. Keep it:
the store's subscribers can only be looked up and exported with the key they were stored with.

Scanning the same logs again leaves the same store. Each batch is stored whole or not at all,
so after Ctrl-C or a crash, run the same scan again to complete the store.
Progress is shown on a terminal (stderr). Exit codes: 0 done; 1 a fault; 2 refused input
(bad usage, registry, unreadable file, unknown log format, bad key), or an input read only
in part (a corrupt or truncated gzip: the summary is printed, every line before the fault is
stored, the fault is the last reject of that input); 130 interrupted.`;

const SCAN_FLAGS = {
  registry: { type: 'string', nonEmpty: true },
  ...LOG_FORMAT_FLAG_OPTIONS,
  db: { type: 'string', nonEmpty: true },
  rejects: { type: 'string', nonEmpty: true },
  workers: { type: 'integer', minimum: 0, maximum: 256 },
  json: { type: 'boolean' },
} as const;

export const scan: Command = {
  name: 'scan',
  summary: 'scan gateway logs into the embedded store (DuckDB): which sites received numbers',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandFlags('scan', argv, SCAN_FLAGS);
    if (positionals.length === 0) throw new LeakscopeError('USAGE', 'give at least one log FILE, or - for stdin. See: leakscope scan --help');
    const { format, profile } = await resolveLogFormat('scan', values, io.cwd);
    const workers = values.workers;
    const db = resolve(io.cwd, values.db ?? DEFAULT_DB);
    const rejectsPath = resolve(io.cwd, values.rejects ?? `${db}.rejects.ndjson`);
    const inputs = positionals.map((p) => (p === '-' ? p : resolve(io.cwd, p)));
    // Rejects are appended: never to the store's other files, nor to a log this scan reads.
    await refuseProtectedOutput(rejectsPath, [
      ...storeFiles(db).filter((f) => f.path !== `${db}.rejects.ndjson`),
      ...inputs.filter((p) => p !== '-').map((path) => ({ path, what: 'a log this scan reads' })),
    ], '--rejects');

    let registryPath: string;
    if (values.registry !== undefined) registryPath = resolve(io.cwd, values.registry);
    else if (existsSync(resolve(io.cwd, DEFAULT_REGISTRY))) registryPath = resolve(io.cwd, DEFAULT_REGISTRY);
    else {
      throw new LeakscopeError('USAGE',
        `scan needs the partner registry: pass --registry FILE (there is no ./${DEFAULT_REGISTRY}); without it every recipient would be judged unauthorised`);
    }
    const registry = await readRegistryFile(registryPath);
    // Everything that can be checked is checked before anything is created (inputs readable,
    // format known, the rejects file writable, the store a DuckDB file); whatever this run
    // created is removed again when the scan is refused before it stored anything, so a
    // refused scan leaves no empty store and no key file behind.
    checkInputList(inputs);
    await inspectInputs(inputs, format);
    await checkRejectsPath(rejectsPath);
    await checkStorePath(db);
    const createdHere = [db, `${db}.wal`].filter((p) => !existsSync(p));

    const keyFile = `${db}.keys.json`;
    const loaded = await loadKeys({ env: io.env, keyFile, createIfMissing: true });
    if (loaded.created) createdHere.push(keyFile);
    let stored = false;
    const undoCreated = (): void => {
      if (stored) return;
      for (const path of createdHere) rmSync(path, { force: true });
    };
    if (loaded.created) {
      io.stderr.write(`leakscope scan: created the key file ${keyFile} (owner-only). Keep it with the store: ` +
        'without it the stored subscribers cannot be looked up or exported.\n');
    }
    for (const warning of loaded.warnings) io.stderr.write(`leakscope scan: warning: ${warning}\n`);

    // Everything the scan creates holds subscribers' data in some form: the store, its
    // write-ahead log (which DuckDB creates later, outside our open), staging and rejects files.
    const umask = process.umask(0o077);
    let store: Awaited<ReturnType<typeof openDuckDbStore>>;
    try {
      store = await openDuckDbStore(db);
    } catch (error) {
      process.umask(umask);
      undoCreated();
      throw error;
    }
    const controller = new AbortController();
    const onSigint = (): void => {
      if (controller.signal.aborted) {
        // A second Ctrl-C: stop at once. The batch in flight is one uncommitted transaction, which DuckDB discards.
        io.stderr.write('leakscope scan: stopped at once; run the same scan again to complete the store\n');
        process.exit(EXIT_INTERRUPTED);
      }
      io.stderr.write('\nleakscope scan: interrupted; finishing the batch being written…\n');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    const progress = createProgress(io.stderr);
    const started = Date.now();
    let summary: ScanSummary;
    let refused = false;
    try {
      summary = await scanFiles({
        inputs, format, profile, registry, keys: loaded.keys, store, rejectsPath,
        stdin: io.stdin, signal: controller.signal,
        onProgress: (p) => {
          stored = true;
          progress.update(p);
        },
        ...(workers !== undefined ? { workers } : {}),
      });
    } catch (error) {
      progress.done();
      if (error instanceof ScanInterrupted) {
        const s = error.summary;
        io.stderr.write(`leakscope scan: stopped after ${formatCount(s.lines)} lines; the store ${db} holds every batch finished so far ` +
          `(${formatCount(s.disclosures)} disclosures). Run the same scan again to complete it.\n`);
        return EXIT_INTERRUPTED;
      }
      refused = true;
      throw error;
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
      await store.close();
      process.umask(umask);
      if (refused) undoCreated();
    }
    progress.done();
    const elapsedMs = Date.now() - started;
    if (values.json) {
      const { notForwarded, unreadFields, ...counts } = summary;
      io.stdout.write(safeJson({
        ...counts, not_forwarded: notForwarded, unread_fields: unreadFields.map((u) => ({ file: u.source, fields: u.fields })),
        db, rejects_file: rejectsPath, elapsed_ms: elapsedMs,
      }) + '\n');
    } else {
      io.stdout.write([
        `scanned ${inputs.length === 1 ? '1 input' : `${inputs.length} inputs`} in ${(elapsedMs / 1000).toFixed(1)} s against registry ${registry.version} (${registry.region})`,
        `  lines        ${formatCount(summary.lines)}`,
        `  requests     ${formatCount(summary.requests)}`,
        `  disclosures  ${formatCount(summary.disclosures)}`,
        `  violations   ${formatCount(summary.violations)}`,
        `  rejected     ${formatCount(summary.rejected)}${summary.rejected > 0 ? `  (appended to ${rejectsPath})` : ''}`,
        ...(summary.faulted > 0 ? [`  faulted      ${formatCount(summary.faulted)} input${summary.faulted === 1 ? '' : 's'} read in part (the fault is the last reject of each)`] : []),
        ...(summary.notForwarded > 0 ? [`  not forwarded ${formatCount(summary.notForwarded)}  (refused by the gateway, e.g. TCP_DENIED: counted, not stored)`] : []),
        ...summary.unreadFields.map((u) => `  not read in ${cleanText(u.source)}: ${cleanText(u.fields.join(' '))}`),
        `store: ${db}`,
        `next: leakscope report --from TIME --to TIME${values.db !== undefined ? ` --db ${db}` : ''}`,
        '',
      ].join('\n'));
    }
    if (summary.faulted > 0) {
      // Refused in part: everything readable is stored and the summary printed, but a run
      // that could not read all of its input must not look like a clean one.
      io.stderr.write(`leakscope scan: ${summary.faulted} input${summary.faulted === 1 ? ' was' : 's were'} read only in part ` +
        `(a corrupt or truncated gzip, a read error, or a format that cannot be told); every line before the fault is stored, ` +
        `and the fault is recorded in ${rejectsPath} with the line it stopped at\n`);
      return EXIT_REFUSED_IN_PART;
    }
    return 0;
  },
};

/** The rejects file must be creatable: its folder exists and is writable, and it is not a folder itself. */
async function checkRejectsPath(path: string): Promise<void> {
  try {
    await access(dirname(path), fsConstants.W_OK);
  } catch (cause) {
    throw new LeakscopeError('INPUT_UNREADABLE', `cannot write the rejects file ${path}: its folder is missing or not writable (--rejects FILE)`, { cause });
  }
  const info = await stat(path).catch(() => null);
  if (info !== null && !info.isFile()) {
    throw new LeakscopeError('INPUT_UNREADABLE', `cannot write the rejects file ${path}: it exists and is not a regular file (--rejects FILE)`);
  }
}

/** DuckDB's file header: a checksum, then the magic bytes `DUCK`. */
const DUCKDB_MAGIC = Buffer.from('DUCK', 'latin1');
const DUCKDB_MAGIC_OFFSET = 8;

/** A --db that exists must be a DuckDB file: scanning into anything else would fail after the keys were made. */
async function checkStorePath(path: string): Promise<void> {
  const info = await stat(path).catch(() => null);
  if (info === null) return;
  if (!info.isFile()) throw new LeakscopeError('USAGE', `--db ${path}: exists and is not a file; give a DuckDB store or a new path`);
  if (info.size === 0) return; // an empty file (e.g. from mktemp) becomes the store
  const head = Buffer.alloc(DUCKDB_MAGIC_OFFSET + DUCKDB_MAGIC.length);
  const handle = await open(path, 'r');
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  if (!head.subarray(DUCKDB_MAGIC_OFFSET).equals(DUCKDB_MAGIC)) {
    throw new LeakscopeError('USAGE', `--db ${path}: exists and is not a DuckDB file; give a leakscope store or a new path`);
  }
}
