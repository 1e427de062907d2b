// The built-in list of identity headers: request headers that header-enrichment gateways
// are documented to add and whose value identifies the subscriber (the number itself, a
// token standing for it, or the SIM/device identity). A registry may add more names.
// Only headers with a public source are listed; `source` names it.

export type IdentityHeaderKind =
  | 'number'     // the MSISDN itself, E.164 digits or national, sometimes with `+`
  | 'token'      // an opaque or encrypted identifier standing for the subscriber
  | 'imsi'       // the SIM's IMSI
  | 'imei'       // the device's IMEI / IMEISV
  | 'composite'; // several fields in one value, the number among them

export interface IdentityHeader {
  /** Lower-case header name. */
  readonly name: string;
  /** Where it is documented as added by a gateway: operator or vendor, and the reference. */
  readonly source: string;
  readonly kind: IdentityHeaderKind;
}

const NETALYZR = 'Vallina-Rodriguez et al., "Header Enrichment or ISP Enrichment?", HotMiddlebox 2015 (Netalyzr data)';
const ACCESS_NOW = 'Access Now, "The Rise of Mobile Tracking Headers" (Aug 2015), amibeingtracked.com results';
const SAFARICOM_CODE = 'Safaricom PLC sales app, src/common/getMsisdn.js (github.com/TheCodeNinja254/bespoke-sales-app-server)';

/** The collected detection lists behind headers no single operator document names (docs/identity-headers.md). */
const DETECTION_LISTS = 'header-enrichment detection lists (docs/identity-headers.md: Netalyzr, Mulliner, Access Now, Adobe Analytics)';

function header(name: string, kind: IdentityHeaderKind, source: string): IdentityHeader {
  return Object.freeze({ name, kind, source });
}

export const BUILTIN_IDENTITY_HEADERS: readonly IdentityHeader[] = Object.freeze([
  header('x-up-calling-line-id', 'number',
    'O2 UK, January 2012 leak via Openwave WAP gateways (wired.co.uk, 25 Jan 2012); Safaricom (' + SAFARICOM_CODE +
    '); Fortinet FortiOS Carrier docs (MSISDN "Sender Address Identifier", also inside Cookie)'),
  header('x-msisdn', 'number', `many operators: Elisa FI, Safaricom, payment providers' test suites; DIMOCO MSISDN detection guide`),
  header('msisdn', 'number', 'F5 BIG-IP PEM header-insertion iRule examples; payment providers\' detection lists'),
  header('x-wap-msisdn', 'number', `many operators; ${DETECTION_LISTS}`),
  header('x-nokia-msisdn', 'number', `Nokia WAP/ACR gateways; Safaricom (${SAFARICOM_CODE})`),
  header('x-network-info', 'composite', `Elisa / Radiolinja FI: \`GPRS,,358505476123,unsecured\` (${DETECTION_LISTS})`),
  header('x-h3g-msisdn', 'number', `Three UK and Three Italy (${DETECTION_LISTS})`),
  header('x-h3g-party-id', 'number', `Three UK and Three Italy (${DETECTION_LISTS})`),
  header('x-wap-network-client-msisdn', 'number', `Bharti Airtel IN; ${ACCESS_NOW}`),
  header('x-up-subno', 'token', `Openwave gateways at AT&T and KDDI: subscriber id, not the number (${DETECTION_LISTS})`),
  header('x-uidh', 'token', 'Verizon Wireless "unique identifier header" 2012–2016; FCC release DOC-338091A1 (2016)'),
  header('x-acr', 'token', `AT&T; Nokia Anonymous Customer Reference (ACR); ${ACCESS_NOW}`),
  header('x-vf-acr', 'token', `Vodafone (NL, ES) anonymous customer reference; ${ACCESS_NOW}`),
  header('x-imsi', 'imsi', `various operators (${NETALYZR}; Mulliner, ICIN 2010)`),
  header('x-nokia-imsi', 'imsi', `various operators (${NETALYZR}; Mulliner, ICIN 2010)`),
  header('x-up-3gpp-imeisv', 'imei', `various operators (${NETALYZR}; Mulliner, ICIN 2010)`),
  header('x-jinny-cid', 'number', `Jinny gateways at Safaricom (${SAFARICOM_CODE})`),
  header('x-hts-clid', 'number', DETECTION_LISTS),
  header('x-mdn', 'number', `${DETECTION_LISTS}; MDN (mobile directory number) is a documented Cisco StarOS header-enrichment variable`),
  header('x-fh-msisdn', 'number', DETECTION_LISTS),
  header('x-msp-msisdn', 'number', DETECTION_LISTS),
  header('x-orange-id', 'token', `Orange; ${DETECTION_LISTS}`),
]);

/** The built-in names, lower-case, for membership tests. */
export const BUILTIN_IDENTITY_HEADER_NAMES: ReadonlySet<string> = new Set(BUILTIN_IDENTITY_HEADERS.map((h) => h.name));
