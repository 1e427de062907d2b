// The detection core: classify a request against a registry snapshot.
export { detect, judge, disclosureId } from './detect.js';
export type { Verdicting } from './detect.js';
export { normalizeNumber, findNumber, firstNumberIn } from './numbers.js';
export type { NumberForms } from './numbers.js';
export { siteOf } from './site.js';
