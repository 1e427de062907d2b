// The incident data-set generator: public surface for tests and the CLI wrapper.
export { generateIncident } from './generate.js';
export type { IncidentOptions, IncidentResult, IncidentSink, IncidentSummary } from './generate.js';
export { CASES, totalCaseRequests } from './cases.js';
export type { CaseSpec } from './cases.js';
export {
  LEAK_END,
  LEAK_START,
  MONTH_END,
  MONTH_START,
  VerdictOracle,
  incidentRegistry,
  maskSubscriber,
  normalizeHost,
  registryYaml,
  siteOf,
} from './registry.js';
export type { IncidentRegistry, TruthVerdict } from './registry.js';
export type { FileSummary, ReportJson, TruthDisclosure, WhoSawJson } from './truth.js';
export { EXAMPLE_SUBSCRIBER } from './world.js';
export type { LogFormatChoice } from './types.js';
