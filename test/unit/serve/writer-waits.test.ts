// The signal a scan leaves while it waits for `serve` to let go of the DuckDB file: honoured
// while the scan lives, ignored once it is gone (a killed scan must not stall the service).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writerWaits } from '../../../services/serve/store-access.js';

const dir = mkdtempSync(join(tmpdir(), 'leakscope-writer-waits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writerWaits', () => {
  it('is true for a live process, false for a gone one, no file, no process id, or a symbolic link', async () => {
    const file = join(dir, 'db.writer-waiting');
    expect(writerWaits(file)).toBe(false);
    writeFileSync(file, String(process.pid));
    expect(writerWaits(file)).toBe(true);
    const child = spawn(process.execPath, ['-e', '']);
    const pid = child.pid!;
    await new Promise((resolve) => child.on('exit', resolve));
    writeFileSync(file, String(pid));
    expect(writerWaits(file)).toBe(false);
    writeFileSync(file, '');
    expect(writerWaits(file)).toBe(false);
    const target = join(dir, 'elsewhere');
    writeFileSync(target, String(process.pid));
    const link = join(dir, 'linked.writer-waiting');
    symlinkSync(target, link);
    expect(writerWaits(link)).toBe(false);
  });
});
