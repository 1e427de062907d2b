// The users `serve` knows, from the users file, re-read when it changes: a user removed with
// `leakscope users remove` loses access (bearer and sessions) within a second, without a restart.
// A file that becomes invalid is logged and the last good list is kept.
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { readUsersFile, type User } from '../users/index.js';

const CHECK_EVERY_MS = 1_000;

export interface UsersSource {
  users(): readonly User[];
}

export class UsersDirectory implements UsersSource {
  private list: readonly User[] = [];
  private stamp = '';
  private timer: NodeJS.Timeout | null = null;

  private constructor(readonly path: string, private readonly log: Logger) {}

  /** Reads the file now (refusing a bad one), then watches it. */
  static async open(path: string, log: Logger): Promise<UsersDirectory> {
    const directory = new UsersDirectory(path, log);
    directory.list = await readUsersFile(path);
    directory.stamp = await directory.currentStamp();
    directory.timer = setInterval(() => void directory.refresh(), CHECK_EVERY_MS);
    directory.timer.unref();
    return directory;
  }

  users(): readonly User[] {
    return this.list;
  }

  private async currentStamp(): Promise<string> {
    const info = await stat(this.path).catch(() => null);
    return info === null ? 'missing' : `${info.ino}:${info.size}:${info.mtimeMs}`;
  }

  async refresh(): Promise<void> {
    const stamp = await this.currentStamp();
    if (stamp === this.stamp) return;
    try {
      this.list = await readUsersFile(this.path);
      this.stamp = stamp;
      this.log.info({ users: this.list.length }, 'users reloaded');
    } catch (error) {
      if (stamp === 'missing') {
        // Nobody is left who may read anything.
        this.list = [];
        this.stamp = stamp;
      }
      this.log.warn({ err: { code: (error as { code?: string }).code, message: (error as Error).message } }, 'users file refused');
    }
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
  }
}

/** A fixed list, for tests and library callers. */
export function fixedUsers(list: readonly User[]): UsersSource {
  return { users: () => list };
}
