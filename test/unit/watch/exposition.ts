// Reading and checking a Prometheus exposition in the watch tests: one sample's value, and
// promtool's verdict on the whole text.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const PROMTOOL = process.env.LEAKSCOPE_PROMTOOL ?? '/usr/bin/promtool';

/** The value of one sample of the exposition, or null when it is not there. */
export function sample(text: string, name: string, labels = ''): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels === '' ? '' : `{${labels}}`} `));
  return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** `promtool check metrics` on `text` (written into `dir`): its exit code and everything it said. */
export async function promtoolCheck(text: string, dir: string): Promise<{ code: number; out: string }> {
  const file = join(dir, 'metrics.txt');
  writeFileSync(file, text);
  return promisify(execFile)('sh', ['-c', `"${PROMTOOL}" check metrics < "${file}"`]).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }));
}
