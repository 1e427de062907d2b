// Everything from the logs reaches the console page as text nodes. This keeps it so: no
// client module may use an API that parses a string as HTML or runs it as code, nor set an
// inline style (the console's CSP refuses those).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLIENT = join(import.meta.dirname, '../../../../services/serve/console/client');
const SINKS = [/\.innerHTML\b/, /\.outerHTML\b/, /insertAdjacentHTML/, /document\.write/, /\beval\s*\(/, /new Function\b/,
  /createContextualFragment/, /DOMParser/, /\.style\s*[.=[]/, /setAttribute\(\s*['"]style['"]/, /srcdoc/];

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await sources(path));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

describe('console client code', () => {
  it('has modules to check', async () => {
    expect((await sources(CLIENT)).length).toBeGreaterThan(5);
  });

  it('never parses a string as HTML, runs one as code, or sets an inline style', async () => {
    const found: string[] = [];
    for (const file of await sources(CLIENT)) {
      const lines = (await readFile(file, 'utf8')).split('\n');
      lines.forEach((line, i) => {
        if (line.trim().startsWith('//')) return;
        for (const sink of SINKS) if (sink.test(line)) found.push(`${file.slice(CLIENT.length + 1)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
  });
});
