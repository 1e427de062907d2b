// What every page of the console is given: where to draw, the signed-in user, the page's
// parameters from the address (#/report?from=…), and a way to go elsewhere.
import type { Session } from './api.js';

export interface PageContext {
  root: HTMLElement;
  session: Session;
  params: URLSearchParams;
  /** Go to another page: `go('report', {from, to})`. */
  go(page: string, params?: Record<string, string | null | undefined>): void;
  /** True while this page is still the one shown (an answer that arrives late is dropped). */
  current(): boolean;
}

export type Page = (context: PageContext) => Promise<void>;
