import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../../../services/shipper/index.js';
import { poisonMessage, rejectMessage } from '../../../services/kafka/index.js';
import { writeOthersFile } from '../support/other-user.js';

describe('ship --follow checkpoint', () => {
  it('starts empty, saves atomically and reads back what was saved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lk-ckpt-'));
    const path = join(dir, 'c.json');
    const c = await Checkpoint.load(path);
    expect(c.content.files).toEqual({});
    c.set('64768:1234', { path: '/var/log/a.log', offset: 120, line: 3, head: '' });
    await c.save();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ version: 1, files: { '64768:1234': { path: '/var/log/a.log', offset: 120, line: 3, head: '' } } });
    const again = await Checkpoint.load(path);
    expect(again.get('64768:1234')?.offset).toBe(120);
    expect(again.retain(new Set())).toBe(true);
    expect(again.content.files).toEqual({});
  });

  it('is never read or saved through a symlink, nor from another user\'s file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lk-ckpt-'));
    const victim = join(dir, 'victim');
    writeFileSync(victim, '{"version":1,"files":{}}');
    symlinkSync(victim, join(dir, 'c.json'));
    await expect(Checkpoint.load(join(dir, 'c.json'))).rejects.toThrow(/the ship checkpoint .*: is a symbolic link/);
    await writeOthersFile(join(dir, 'theirs.json'), '{"version":1,"files":{}}');
    await expect(Checkpoint.load(join(dir, 'theirs.json'))).rejects.toThrow(/owned by another user/);
    // Saving: a link planted after load is refused, and its target is left alone.
    const c = await Checkpoint.load(join(dir, 'later.json'));
    symlinkSync(victim, join(dir, 'later.json'));
    await expect(c.save()).rejects.toThrow(/is a symbolic link/);
    expect(readFileSync(victim, 'utf8')).toBe('{"version":1,"files":{}}');
  });

  it('refuses a damaged checkpoint with what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lk-ckpt-'));
    const path = join(dir, 'c.json');
    writeFileSync(path, '{"version":1,"files":{"x":{}}}');
    await expect(Checkpoint.load(path)).rejects.toThrow(/files\.x: unknown key.*move it away/);
    writeFileSync(path, '{"version":1,"files":{"1:2":{"path":"/a","offset":-1,"line":0}}}');
    const error = await Checkpoint.load(path).catch((e: unknown) => e);
    expect((error as { problems: string[] }).problems.sort()).toEqual(['files["1:2"].head: missing', 'files["1:2"].offset: expected at least 0']);
    writeFileSync(path, 'nope');
    await expect(Checkpoint.load(path)).rejects.toThrow(/not JSON.*move it away/);
  });
});

describe('dead-letter messages', () => {
  it('carry the raw text and the reason, source and line in headers', () => {
    expect(rejectMessage({ source: 'a.log', line: 7, reason: 'ts: missing', raw: '{"x":1}' })).toEqual({
      key: null, value: Buffer.from('{"x":1}'), headers: { reason: 'ts: missing', source: 'a.log', line: '7' },
    });
    expect(poisonMessage(Buffer.from([1]), null, 'bad', 't/0@5').headers).toEqual({ reason: 'bad', source: 't/0@5', line: '0' });
  });
});
