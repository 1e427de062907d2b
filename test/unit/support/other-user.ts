// Files owned by another user, for the file-safety tests. Making one needs root (chown); the
// suite runs as root in CI. Elsewhere the test fails with what to do, never skips.
import { chown, lchown, writeFile } from 'node:fs/promises';

/** uid of "nobody" on Debian: a user that is certainly not the one running the tests. */
export const OTHER_UID = 65534;

function needRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('this test makes a file owned by another user with chown, which needs root: run it as root (sudo npx vitest run …), as CI does');
  }
}

/** gid of "nogroup" on Debian: the primary group of nobody (and sync, _apt), so it holds other users. */
export const OTHER_GID = 65534;

/** Writes `path` and gives it to another user. */
export async function writeOthersFile(path: string, text: string, mode = 0o600): Promise<void> {
  needRoot();
  await writeFile(path, text, { mode });
  await chown(path, OTHER_UID, OTHER_UID);
}

/** Gives an existing folder, file or symbolic link (itself, not its target) to another user. */
export async function giveToOtherUser(path: string): Promise<void> {
  needRoot();
  await lchown(path, OTHER_UID, OTHER_UID);
}

/** Gives an existing folder or file to the group "nogroup", leaving its owner. */
export async function giveGroupToOthers(path: string): Promise<void> {
  needRoot();
  await lchown(path, process.getuid!(), OTHER_GID);
}
