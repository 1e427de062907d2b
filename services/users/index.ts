// Users of the operator service: roles, tokens (random, stored as SHA-256) and the users file.
export { ROLES, isRole, roleAtLeast } from './roles.js';
export type { Role } from './roles.js';
export { TOKEN_PREFIX, looksLikeToken, newToken, tokenHash } from './tokens.js';
export {
  DEFAULT_USERS_FILE, USERS_FILE_MODE, checkUserName, formatUsers, parseUsers, readUsersFile, userOfToken, writeUsersFile,
} from './users-file.js';
export type { User } from './users-file.js';
