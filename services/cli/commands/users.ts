// `leakscope users add|list|remove`: the users of `leakscope serve`. A new user's token is
// printed once, alone on standard output, and stored only as its SHA-256 in the users file
// (owner-only). See "Users and roles" in the README.
import { resolve } from 'node:path';
import type { Command } from '../command.js';
import { parseCommandFlags } from '../flags.js';
import { LeakscopeError } from '../../core/errors.js';
import {
  DEFAULT_USERS_FILE, ROLES, checkUserName, isRole, newToken, readUsersFile, tokenHash, writeUsersFile,
} from '../../users/index.js';

const USERS_FLAG = `  --users FILE            the users file (default ./${DEFAULT_USERS_FILE}; owner-only, mode 0600)`;

const USERS_ADD_FLAGS = { role: { type: 'string', enum: ROLES }, users: { type: 'string' } } as const;
const USERS_FILE_FLAGS = { users: { type: 'string' } } as const;

function usersPath(value: string | undefined, cwd: string): string {
  return resolve(cwd, value ?? DEFAULT_USERS_FILE);
}

export const usersAdd: Command = {
  name: 'users add',
  summary: 'add a user of `leakscope serve` with a role; prints its new token, once',
  usage: `Usage: leakscope users add NAME --role viewer|investigator|privacy_officer|admin [--users FILE]

Adds a user and prints its token alone on standard output: it is shown this once and stored
only as a SHA-256 hash, so keep it (a lost token is replaced by removing and adding the user).
Roles, each allowed what the ones before it are: viewer (report, alerts, registry),
investigator (+ who-saw), privacy_officer (+ affected, audit), admin.
${USERS_FLAG}
`,
  async run(argv, io) {
    const { values, positionals } = parseCommandFlags('users add', argv, USERS_ADD_FLAGS);
    if (positionals.length !== 1) throw new LeakscopeError('USAGE', 'users add takes one NAME, e.g. leakscope users add alice --role investigator');
    const name = checkUserName(positionals[0]!);
    if (!isRole(values.role)) {
      throw new LeakscopeError('USAGE', `users add needs --role, one of ${ROLES.join(', ')}${values.role === undefined ? '' : `; got ${JSON.stringify(values.role)}`}`);
    }
    const path = usersPath(values.users, io.cwd);
    const users = await readUsersFile(path, { allowMissing: true });
    if (users.some((u) => u.name === name)) {
      throw new LeakscopeError('USAGE', `user ${name} already exists in ${path}; remove it first to give it a new token or role`);
    }
    const token = newToken();
    await writeUsersFile(path, [...users, { name, role: values.role, tokenSha256: tokenHash(token), created: new Date().toISOString() }]);
    io.stdout.write(`${token}\n`);
    io.stderr.write(`user ${name} (${values.role}) added to ${path}; its token is on standard output, shown this once\n`);
    return 0;
  },
};

export const usersList: Command = {
  name: 'users list',
  summary: 'list the users of `leakscope serve`: name, role, when added',
  usage: `Usage: leakscope users list [--users FILE]\n\n${USERS_FLAG}\n`,
  async run(argv, io) {
    const { values, positionals } = parseCommandFlags('users list', argv, USERS_FILE_FLAGS);
    if (positionals.length > 0) throw new LeakscopeError('USAGE', 'users list takes no arguments');
    const path = usersPath(values.users, io.cwd);
    const users = await readUsersFile(path, { allowMissing: true });
    const width = Math.max(4, ...users.map((u) => u.name.length));
    io.stdout.write(`${'name'.padEnd(width)}  ${'role'.padEnd(15)}  created\n`);
    for (const u of users) io.stdout.write(`${u.name.padEnd(width)}  ${u.role.padEnd(15)}  ${u.created}\n`);
    if (users.length === 0) io.stderr.write(`no users in ${path}; add one with leakscope users add NAME --role ROLE\n`);
    return 0;
  },
};

export const usersRemove: Command = {
  name: 'users remove',
  summary: 'remove a user of `leakscope serve`: its token and sessions stop working',
  usage: `Usage: leakscope users remove NAME [--users FILE]

A running serve re-reads the users file within a second: the user's token and console
sessions stop working without a restart.
${USERS_FLAG}
`,
  async run(argv, io) {
    const { values, positionals } = parseCommandFlags('users remove', argv, USERS_FILE_FLAGS);
    if (positionals.length !== 1) throw new LeakscopeError('USAGE', 'users remove takes one NAME');
    const name = checkUserName(positionals[0]!);
    const path = usersPath(values.users, io.cwd);
    const users = await readUsersFile(path);
    if (!users.some((u) => u.name === name)) throw new LeakscopeError('USAGE', `no user ${name} in ${path}`);
    await writeUsersFile(path, users.filter((u) => u.name !== name));
    io.stderr.write(`user ${name} removed from ${path}\n`);
    return 0;
  },
};
