// Figures derived from a report that more than one format shows.
import type { ReportJson } from '../store/answers.js';
import type { Verdict } from '../core/types.js';

/** Violations per verdict over all sites of the report (every site is in it, so the sum is exact). */
export function verdictTotals(report: ReportJson): Record<Verdict, number> {
  const totals: Record<Verdict, number> = { authorized: 0, identifier_not_allowed: 0, partner_inactive: 0, unauthorized_recipient: 0 };
  for (const s of report.sites) {
    for (const [verdict, n] of Object.entries(s.verdicts) as Array<[Verdict, number | undefined]>) totals[verdict] += n ?? 0;
  }
  return totals;
}
