// The tricky cases: each is built exactly `count` times, at times drawn from `when`, so tests
// and detector authors can count them. Channels a case adds are listed in `description`.
import { LEAK_END, LEAK_START, MONTH_END, MONTH_START } from './registry.js';

export type TimeRanges = ReadonlyArray<readonly [from: number, to: number]>;

const ANY: TimeRanges = [[MONTH_START, MONTH_END]];
const OUTSIDE: TimeRanges = [[MONTH_START, LEAK_START], [LEAK_END, MONTH_END]];
const INSIDE: TimeRanges = [[LEAK_START, LEAK_END]];

export interface CaseSpec {
  kind: string;
  count: number;
  when: TimeRanges;
  description: string;
}

export const CASES: readonly CaseSpec[] = [
  { kind: 'url_query_msisdn', count: 6, when: ANY, description: 'm.shop.com/landing?msisdn=<E.164 digits> after age verification: channel url' },
  { kind: 'url_path_national', count: 4, when: ANY, description: 'www.social.co.uk/u/0<national>/profile: channel url (national spelling)' },
  { kind: 'referer_partner_page', count: 5, when: ANY, description: 't.tracker.example pixel with Referer http://www.ageverify.example/verify?msisdn=<digits>: channel referer' },
  { kind: 'header_spaced_number', count: 4, when: OUTSIDE, description: 'X-Debug: +44 7700-900 123 to a non-partner: channel header:x-debug' },
  { kind: 'header_composite', count: 4, when: OUTSIDE, description: 'X-Network-Info: GPRS,,<digits>,unsecured: channel header:x-network-info' },
  { kind: 'cookie_number', count: 4, when: OUTSIDE, description: 'Cookie: sid=…; x-up-calling-line-id=<digits>: channel header:cookie' },
  { kind: 'header_national_no_cc', count: 3, when: OUTSIDE, description: 'X-Subscriber-Ref: 7700900123 (msisdn-no-cc): channel header:x-subscriber-ref' },
  { kind: 'digits_superstring', count: 5, when: OUTSIDE, description: 'X-Trace: 99<digits>991 merely contains the digits: NOT a disclosure' },
  { kind: 'token_wifi_partner', count: 6, when: ANY, description: 'X-ACR token on a Wi-Fi session to www.recognise.example: authorized, subscriber null' },
  { kind: 'token_wifi_tracker', count: 3, when: ANY, description: 'X-ACR token on a Wi-Fi session to t.tracker.example: unauthorized_recipient, subscriber null' },
  { kind: 'identity_header_no_session', count: 3, when: OUTSIDE, description: 'Wi-Fi session (msisdn null) with a stale X-MSISDN: subscriber taken from the header' },
  { kind: 'registry_identity_header', count: 3, when: OUTSIDE, description: 'X-O2-Subscriber token (identity header from the registry, not built in): channel header:x-o2-subscriber' },
  { kind: 'lookalike_prefix', count: 4, when: ANY, description: 'evil-ageverify.example gets X-UP-Calling-Line-ID from a sloppy gateway rule: unauthorized_recipient' },
  { kind: 'lookalike_suffix', count: 4, when: ANY, description: 'ageverify.example.evil.net (site evil.net) gets X-UP-Calling-Line-ID: unauthorized_recipient' },
  { kind: 'wildcard_apex', count: 4, when: ANY, description: 'bare ageverify.example does not match *.ageverify.example: unauthorized_recipient' },
  { kind: 'host_uppercase_partner', count: 4, when: OUTSIDE, description: 'WWW.AGEVERIFY.EXAMPLE: authorized after normalisation' },
  { kind: 'host_trailing_dot_partner', count: 3, when: ANY, description: 'api.ageverify.example. (trailing dot): authorized' },
  { kind: 'host_port_partner', count: 3, when: ANY, description: 'www.ageverify.example:8080: authorized' },
  { kind: 'host_mixed_nonpartner', count: 4, when: INSIDE, description: 'M.News.CO.UK.:8080 during the leak: host m.news.co.uk, unauthorized_recipient' },
  { kind: 'idn_partner_unicode_host', count: 3, when: ANY, description: 'host logged in Unicode www.bücher.example: host www.xn--bcher-kva.example, authorized' },
  { kind: 'idn_site', count: 4, when: INSIDE, description: 'www.xn--mnchen-3ya.example (non-partner IDN) during the leak: unauthorized_recipient' },
  { kind: 'billing_gap', count: 3, when: [[Date.UTC(2012, 0, 8), LEAK_START]], description: 'pay.billing.example between its two contracts: partner_inactive' },
  { kind: 'legacy_after_contract', count: 3, when: [[LEAK_END, MONTH_END]], description: 'portal.legacy.example after its contract ended 15 Jan: partner_inactive' },
  { kind: 'token_partner_leak', count: 3, when: INSIDE, description: 'www.recognise.example during the leak gets X-UP-Calling-Line-ID besides X-ACR: identifier_not_allowed' },
  { kind: 'ip_partner', count: 3, when: ANY, description: 'IP-literal partner 192.0.2.10 with X-MSISDN: authorized' },
  { kind: 'quiet_subscriber', count: 3, when: [[MONTH_START, LEAK_START]], description: 'the quiet subscriber browses before the leak: no disclosure (who-saw answers nothing)' },
];

export function totalCaseRequests(): number {
  return CASES.reduce((n, c) => n + c.count, 0);
}
