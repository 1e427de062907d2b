// The rejects file keeps every unread line as it was, but writes control and bidi characters as
// JSON escapes (issue 7, item 10): `less` or `cat` of it sends no escape sequence, and each
// record reads back to the exact line.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RejectsFile } from '../../../services/scan/rejects-file.js';

let dir: string | null = null;
afterEach(async () => {
  if (dir !== null) await rm(dir, { recursive: true, force: true });
  dir = null;
});

describe('RejectsFile', () => {
  it('writes raw lines with ESC, OSC, NUL, CR and U+202E escaped, reading back unchanged', async () => {
    dir = await mkdtemp(join(tmpdir(), 'leakscope-rejects-'));
    const path = join(dir, 'rejects.ndjson');
    const raws = ['{"host":"evil\u001b[2J"}', 'a\u001b]8;;x\u0007 \u009d0;t\u009c', 'nul\u0000 cr\r', 'x\u202egnp.exe'];
    const file = new RejectsFile(path);
    await file.append(raws.map((raw, i) => ({ source: 'gw.log', line: i + 1, reason: 'not JSON', raw })));
    await file.close();
    const text = await readFile(path, 'utf8');
    expect(text.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(text).toContain('x\\u202egnp.exe');
    expect(text.trimEnd().split('\n').map((l) => (JSON.parse(l) as { raw: string }).raw)).toEqual(raws);
  });
});
