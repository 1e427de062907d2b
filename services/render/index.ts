// Output formats of the query commands: table (terminal), CSV, HTML, and JSON: the contract
// object of services/store/answers.ts with control and bidi characters escaped.
export { renderReportTable, renderWhoSawTable } from './table.js';
export type { ReportTableOptions } from './table.js';
export { renderReportCsv, renderWhoSawCsv, renderAffectedCsv, csvField, csvRow, AFFECTED_CSV_HEADER } from './csv.js';
export type { AffectedRow } from './csv.js';
export { renderReportHtml, escapeHtml, timelineSvg } from './html.js';
export type { ReportHtmlOptions } from './html.js';
export { cleanText, sparkline } from './text.js';
export { renderJson } from './json.js';
