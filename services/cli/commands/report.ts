// `leakscope report`: the exposure report of a window — which sites received identifiers they
// were not allowed to receive, how many subscribers each, when, by which channel — as a table,
// the contract JSON, CSV (one row per site) or a self-contained HTML page.
import type { Command } from '../command.js';
import { parseCommandFlags, parseEnumFlag } from '../flags.js';
import { LeakscopeError } from '../../core/errors.js';
import { siteOf } from '../../core/detect/index.js';
import { normalizeHost } from '../../core/registry/index.js';
import { buildReport, type ReportJson } from '../../store/index.js';
import { renderJson, renderReportCsv, renderReportHtml, renderReportTable } from '../../render/index.js';
import {
  STORE_FLAGS_USAGE, STORE_FLAG_OPTIONS, describeLocation, noteLocation, openStore, resolveStoreLocation, type StoreOpener,
} from '../store-option.js';
import { parseRequiredWindow } from '../time.js';
import { checkOutputPath, writeOutputFile } from '../output-file.js';

export const REPORT_FORMATS = ['table', 'json', 'csv', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const USAGE = `Usage: leakscope report --from TIME --to TIME [--site SITE] [--format table|json|csv|html] [--out FILE]
                        [--db PATH | --clickhouse URL]

The exposure report of the window [from, to): every site that received a subscriber
identifier it was not allowed to receive, with subscribers, violations, first and last seen,
channels and verdicts; totals; and violations per hour.

  --from TIME, --to TIME  ISO-8601 with a zone (2012-01-25T14:00:00Z, 2012-01-25T14:00+00:00),
                          or a date (2012-01-10 = 00:00 UTC that day); the end is excluded
  --site SITE             only this site; a host (www.example.com) means its site, IDNs in
                          either spelling
  --format FORMAT         table (default), json (the contract object), csv (one row per
                          site), html (one self-contained page with a chart)
  --out FILE              write to FILE (mode 0600) instead of standard output; never the
                          store's own files, a symlink or another user's file
${STORE_FLAGS_USAGE}
`;

/** `--site` as the store keeps sites: lower-case ASCII (punycode), a host reduced to its site. */
export function normalizeSiteFlag(value: string): string {
  const host = normalizeHost(value.trim());
  if (host === null) throw new LeakscopeError('USAGE', `--site ${JSON.stringify(value)}: not a host or site name (expected e.g. example.com)`);
  return siteOf(host);
}

export function renderReport(report: ReportJson, format: ReportFormat, options: { site?: string; source?: string }): string {
  switch (format) {
    case 'json': return renderJson(report);
    case 'csv': return renderReportCsv(report);
    case 'html': return renderReportHtml(report, options);
    case 'table': return renderReportTable(report, options);
  }
}

/** `--format` checked against `formats` (a thin wrapper of flags.ts' parseEnumFlag, kept for callers). */
export function parseFormat<F extends string>(value: string | undefined, formats: readonly F[], fallback: F): F {
  return parseEnumFlag(value, '--format', formats, fallback);
}

const REPORT_FLAGS = {
  from: { type: 'string' }, to: { type: 'string' }, site: { type: 'string' },
  format: { type: 'string', enum: REPORT_FORMATS, default: 'table' }, out: { type: 'string' }, ...STORE_FLAG_OPTIONS,
} as const;

export function createReportCommand(open: StoreOpener = openStore): Command {
  return {
    name: 'report',
    summary: 'the exposure report of a window: sites, subscribers, violations (table, json, csv, html)',
    usage: USAGE,
    async run(argv, io) {
      const { values, positionals } = parseCommandFlags('report', argv, REPORT_FLAGS);
      if (positionals.length > 0) throw new LeakscopeError('USAGE', `report takes no arguments, got ${JSON.stringify(positionals[0])}. See: leakscope report --help`);
      const format = values.format;
      const window = parseRequiredWindow(values, 'report');
      const site = values.site === undefined ? undefined : normalizeSiteFlag(values.site);
      if (site !== undefined && values.site !== undefined && site !== values.site) io.stderr.write(`--site ${values.site}: reporting site ${site}\n`);
      const location = resolveStoreLocation(values, io.env, io.cwd);
      noteLocation(location, (t) => io.stderr.write(t));
      const outPath = values.out === undefined ? undefined : await checkOutputPath(values.out, io.cwd, location);

      const store = await open(location);
      let report: ReportJson;
      try {
        report = buildReport(window, await store.report(window, site));
      } finally {
        await store.close();
      }
      const text = renderReport(report, format, { ...(site === undefined ? {} : { site }), source: describeLocation(location) });
      if (outPath === undefined) {
        io.stdout.write(text);
      } else {
        await writeOutputFile(outPath, text);
        io.stderr.write(`report (${format}) written to ${outPath} (mode 0600)\n`);
      }
      return 0;
    },
  };
}

export const report = createReportCommand();
