// Files owned by another user, for the file-safety tests. Making one needs root (chown); the
// suite runs as root in CI. Elsewhere the test fails with what to do, never skips.
import { chown, writeFile } from 'node:fs/promises';

/** uid of "nobody" on Debian: a user that is certainly not the one running the tests. */
export const OTHER_UID = 65534;

/** Writes `path` and gives it to another user. */
export async function writeOthersFile(path: string, text: string, mode = 0o600): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error('this test makes a file owned by another user with chown, which needs root: run it as root (sudo npx vitest run …), as CI does');
  }
  await writeFile(path, text, { mode });
  await chown(path, OTHER_UID, OTHER_UID);
}
