// The JSON shapes the console reads from the operator API (README, "The API"), and the
// order of roles. No browser API here, so tests can load it in Node.

export type Role = 'viewer' | 'investigator' | 'privacy_officer' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'investigator', 'privacy_officer', 'admin'];

export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

export interface Session {
  name: string;
  role: Role;
  csrf: string;
}

export type Verdict = 'authorized' | 'identifier_not_allowed' | 'partner_inactive' | 'unauthorized_recipient';

export interface ReportJson {
  window: { from: string; to: string };
  totals: { violations: number; subscribers: number; sites: number };
  sites: Array<{
    site: string; hosts: string[]; violations: number; subscribers: number; first_seen: string; last_seen: string;
    identifiers: string[]; verdicts: Partial<Record<Verdict, number>>;
  }>;
  timeline: Array<{ bucket: string; violations: number }>;
}
export type SiteRow = ReportJson['sites'][number];

export interface WhoSawJson {
  subscriber: string;
  window: { from: string | null; to: string | null };
  recipients: Array<{
    site: string; host: string; verdict: Verdict; partner: string | null; requests: number; identifiers: string[];
    first_seen: string; last_seen: string;
  }>;
}

export interface Alert {
  id: string;
  kind: string;
  site: string | null;
  host: string | null;
  verdict: Verdict | null;
  partner_id: string | null;
  channels: string[];
  subscriber_masked: string | null;
  sites: string[];
  first_seen: string;
  count: number;
  detected_at: string;
  registry_version: string;
}

export interface PartnerPeriod {
  name: string;
  purposes: string[];
  domains: string[];
  identifiers: string[];
  valid_from: string | null;
  valid_to: string | null;
}
export interface Partner { id: string; periods: PartnerPeriod[] }
export interface Registry { version: string; region: string; identity_headers: string[]; partners: Partner[] }
/** The API lists one entry per partner and validity period; the console groups them by partner. */
export interface RegistryAnswer { version: string; region: string; identity_headers: string[]; partners: Array<PartnerPeriod & { id: string }> }

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  role: string;
  action: string;
  subscriber_hash: string | null;
  window: { from: string | null; to: string | null } | null;
  reason: string;
  results: number;
  prev: string;
  hash: string;
}
