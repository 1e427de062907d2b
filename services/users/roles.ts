// The roles of the operator service, in order: each may do what the ones before it may.
// See "Users and roles" in the README for what each route needs.

export const ROLES = ['viewer', 'investigator', 'privacy_officer', 'admin'] as const;

export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** True when `role` is `needed` or above it. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}
