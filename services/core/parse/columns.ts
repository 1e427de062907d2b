// Column-mapped log lines → GatewayRequest, for the writers whose lines are a list of values
// named once per file (CSV/TSV header rows, a Squid logformat): the names are planned once
// against the profile, then each line's values go to their slots. The W3C parser has its own
// copy of the same steps (w3c.ts), kept there so the default format pays for nothing new.
import type { ParseResult } from '../types.js';
import type { LogProfile, TimeFormat } from './profile.js';
import { assembleRequest, type TargetFieldNames } from './assemble.js';
import { COUNT_MAX, readCount, STATUS_MAX } from './counts.js';
import { parseEpochMsText, parseIsoDateTime, parseW3cDateTime } from './time.js';
import { isNotForwarded, NOT_FORWARDED, plusToSpace } from './w3c-profile.js';

const enum Slot {
  Ignored,
  Date,
  Time,
  Ts,
  EpochSeconds,
  SubsecondMs,
  ClfTime,
  GatewayId,
  RequestId,
  Msisdn,
  Bearer,
  ClientIp,
  Method,
  Scheme,
  Host,
  Port,
  Path,
  Query,
  Uri,
  Status,
  Bytes,
  ClientHeader,
  UpstreamHeader,
}

/** Targets only a syntax's own field list uses (Squid's `%ts`, `%tu`, `%tl`), besides the profile's. */
export type InternalTarget = 'epoch_seconds' | 'subsecond_ms' | 'clf_time';

const SLOT_OF_TARGET: ReadonlyMap<string, Slot> = new Map<string, Slot>([
  ['ignore', Slot.Ignored],
  ['date', Slot.Date],
  ['time', Slot.Time],
  ['ts', Slot.Ts],
  ['epoch_seconds', Slot.EpochSeconds],
  ['subsecond_ms', Slot.SubsecondMs],
  ['clf_time', Slot.ClfTime],
  ['gateway_id', Slot.GatewayId],
  ['request_id', Slot.RequestId],
  ['msisdn', Slot.Msisdn],
  ['bearer', Slot.Bearer],
  ['client_ip', Slot.ClientIp],
  ['method', Slot.Method],
  ['scheme', Slot.Scheme],
  ['host', Slot.Host],
  ['port', Slot.Port],
  ['path', Slot.Path],
  ['query', Slot.Query],
  ['url', Slot.Uri],
  ['status', Slot.Status],
  ['bytes', Slot.Bytes],
]);

/** How a column's values are decoded before use. */
export const enum Decode {
  None = 0,
  /** `+` stands for a space (IIS, or a profile's plus_is_space). */
  Plus = 1,
  /** %XX sequences are percent-encoded bytes (Squid's default for headers). */
  Percent = 2,
}

export interface ColumnPlan {
  /** The columns' names as written, for reasons. */
  readonly names: readonly string[];
  readonly slots: readonly Slot[];
  /** Lower-case header name for header slots, '' otherwise. */
  readonly headerNames: readonly string[];
  readonly decode: readonly number[];
  /** Per column: the values (upper-case) that mean "not forwarded", or null. */
  readonly notForwarded: ReadonlyArray<ReadonlySet<string> | null>;
  readonly timeFormat: TimeFormat;
  /** Columns nobody reads, as written: listed once per file in the summary. */
  readonly unread: readonly string[];
  /** Per column: how a `clf_time` column not in the Common Log Format is read, or null. */
  readonly times: ReadonlyArray<ColumnTime | null>;
  readonly hasTime: boolean;
}

export interface ColumnSpec {
  /** As written in the file (a CSV header, a Squid code): for reasons and the unread list. */
  name: string;
  /** The key profiles use: lower-case. */
  key: string;
  /** The target from the syntax's own list, when it has one. */
  standard?: string | InternalTarget;
  /** Decoding the writer applies to this column regardless of the profile (Squid's). */
  decode?: number;
  /** For a `clf_time` column written in another form (Squid's `%{format}tl`): how to read it. */
  time?: ColumnTime;
}

export interface ColumnTime {
  /** The form, for reasons. */
  readonly description: string;
  /** Epoch ms, or null when the value is not a time in that form. */
  read(value: string): number | null;
}

/** Plans the columns: the profile's mapping first, then the syntax's standard one; a reason when the plan cannot work. */
export function planColumns(specs: readonly ColumnSpec[], profile: LogProfile): ColumnPlan | string {
  const slots: Slot[] = [];
  const headerNames: string[] = [];
  const decode: number[] = [];
  const notForwarded: Array<ReadonlySet<string> | null> = [];
  const unread: string[] = [];
  const rules = new Map(profile.notForwarded.map((r) => [r.field, r.values] as const));
  for (const spec of specs) {
    const target = profile.fields[spec.key] ?? spec.standard ?? null;
    let slot = Slot.Ignored;
    let header = '';
    if (target !== null) {
      if (target.startsWith('header:')) {
        slot = Slot.UpstreamHeader;
        header = target.slice('header:'.length);
      } else if (target.startsWith('client_header:')) {
        slot = Slot.ClientHeader;
        header = target.slice('client_header:'.length);
      } else {
        slot = SLOT_OF_TARGET.get(target) ?? Slot.Ignored;
      }
    }
    const values = rules.get(spec.key);
    notForwarded.push(values === undefined ? null : new Set(values));
    if (slot === Slot.Ignored && target !== 'ignore' && values === undefined) unread.push(spec.name);
    slots.push(slot);
    headerNames.push(header);
    decode.push((spec.decode ?? 0) | (profile.plusIsSpace === true && (slot === Slot.ClientHeader || slot === Slot.UpstreamHeader || slot === Slot.Msisdn) ? Decode.Plus : 0));
  }
  const has = (s: Slot): boolean => slots.includes(s);
  const hasTime = has(Slot.Ts) || has(Slot.EpochSeconds) || has(Slot.ClfTime) || (has(Slot.Date) && has(Slot.Time));
  if (!has(Slot.Uri) && !has(Slot.Host) && !slots.some((s, i) => (s === Slot.ClientHeader || s === Slot.UpstreamHeader) && headerNames[i] === 'host')) {
    return `no field gives the request's host (a url, host or Host header field); map one in the profile's fields`;
  }
  const times = specs.map((s) => s.time ?? null);
  return { names: specs.map((s) => s.name), slots, headerNames, decode, notForwarded, timeFormat: profile.timeFormat, unread, hasTime, times };
}

/** `+` → space, and/or %XX → the byte's character; malformed escapes stay as written. */
export function decodeValue(value: string, how: number): string {
  let v = value;
  if ((how & Decode.Plus) !== 0) v = plusToSpace(v);
  if ((how & Decode.Percent) !== 0 && v.includes('%')) {
    try {
      v = decodeURIComponent(v.replace(/%(?![0-9a-fA-F]{2})/g, '%25'));
    } catch {
      // Bytes that are not UTF-8 once decoded: keep what the writer wrote.
    }
  }
  return v;
}

/** Epoch seconds with an optional fraction (`1326187862.123`), as milliseconds. */
function parseEpochSeconds(text: string): number | null {
  const m = /^(\d{1,12})(?:\.(\d{1,9}))?$/.exec(text);
  if (m === null) return null;
  const ms = Number(m[1]) * 1000 + (m[2] === undefined ? 0 : Number(m[2].padEnd(3, '0').slice(0, 3)));
  return Number.isSafeInteger(ms) ? ms : null;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Common Log Format time `10/Jan/2012:09:31:02 +0000` (Squid's %tl/%tg default), brackets allowed. */
function parseClfTime(text: string): number | null {
  const m = /^\[?(\d{2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))? ([+-])(\d{2})(\d{2})\]?$/.exec(text);
  if (m === null) return null;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  if (month < 0) return null;
  const [day, year, hour, minute, second] = [Number(m[1]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])];
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const local = Date.UTC(year, month, day, hour, minute, second, m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0')));
  if (new Date(Date.UTC(year, month, day)).getUTCDate() !== day) return null;
  const offset = (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10]));
  return local - offset * 60_000;
}

function readTs(value: string, format: TimeFormat): number | null {
  switch (format) {
    case 'auto': return parseIsoDateTime(value) ?? parseEpochMsText(value);
    case 'iso': return parseIsoDateTime(value);
    case 'epoch_s': return parseEpochSeconds(value);
    case 'epoch_ms': return parseEpochMsText(value);
  }
}

const TARGET_NAMES: TargetFieldNames = {
  uri: 'url', host: 'host', port: 'port', missingHost: 'missing host: no host field, no host in the url and no Host header',
};

/** Overlays upstream headers on the client's: an upstream value replaces every client value of its name. */
function overlay(client: Array<readonly [string, string]>, upstream: Array<readonly [string, string]>): Array<readonly [string, string]> {
  if (upstream.length === 0) return client;
  const replaced = new Set(upstream.map(([name]) => name));
  return [...client.filter(([name]) => !replaced.has(name)), ...upstream];
}

/**
 * The request of one line's values (`values[0..n)`, null = absent), by the plan. `text` is
 * the line as read, hashed for the request's identity when it has no gateway and request id.
 */
export function buildRequest(plan: ColumnPlan, values: ReadonlyArray<string | null>, n: number, text: string): ParseResult {
  const { slots, headerNames, names } = plan;
  for (let f = 0; f < n; f++) {
    const rule = plan.notForwarded[f];
    const v = values[f];
    if (rule != null && v != null && isNotForwarded(v, rule)) return NOT_FORWARDED;
  }
  if (!plan.hasTime) return { ok: false, reason: 'no field gives the request\'s time (ts, date and time, or Squid\'s %ts / %tl)' };
  let date: string | null = null;
  let time: string | null = null;
  let ts: number | null = null;
  let tsField = '';
  let seconds: string | null = null;
  let hasSeconds = false;
  let subsecond: string | null = null;
  let subsecondField = '';
  // A %tl / %tg time has whole seconds: the milliseconds of a %tu on the same line complete it.
  let wholeSeconds = false;
  const r = {
    gatewayId: null as string | null, requestId: null as string | null, msisdn: null as string | null,
    bearer: null as string | null, clientIp: null as string | null, method: null as string | null,
  };
  let scheme: string | null = null;
  let host: string | null = null;
  let port: string | null = null;
  let path: string | null = null;
  let query: string | null = null;
  let uri: string | null = null;
  let status: number | null = null;
  let bytes: number | null = null;
  const client: Array<readonly [string, string]> = [];
  const upstream: Array<readonly [string, string]> = [];
  for (let f = 0; f < n; f++) {
    let v = values[f] ?? null;
    if (v !== null && plan.decode[f] !== 0) v = decodeValue(v, plan.decode[f]!);
    switch (slots[f]) {
      case Slot.Date: date = v; break;
      case Slot.Time: time = v; break;
      case Slot.Ts:
      case Slot.ClfTime: {
        if (v === null) return { ok: false, reason: `${names[f]}: absent` };
        const form = plan.times[f] ?? null;
        ts = slots[f] === Slot.Ts ? readTs(v, plan.timeFormat) : form !== null ? form.read(v) : parseClfTime(v);
        if (ts === null) {
          const as = slots[f] === Slot.Ts ? ` as ${plan.timeFormat}` : form !== null ? ` written as ${form.description}` : ' dd/Mon/yyyy:hh:mm:ss +zzzz';
          return { ok: false, reason: `${names[f]}: ${JSON.stringify(v)} is not a time${as}` };
        }
        tsField = names[f]!;
        wholeSeconds = slots[f] === Slot.ClfTime && (form !== null || !/:\d\d\./.test(v));
        break;
      }
      case Slot.EpochSeconds: seconds = v; hasSeconds = true; tsField = names[f]!; break;
      case Slot.SubsecondMs: subsecond = v; subsecondField = names[f]!; break;
      case Slot.GatewayId: r.gatewayId = v; break;
      case Slot.RequestId: r.requestId = v; break;
      case Slot.Msisdn: r.msisdn = v; break;
      case Slot.Bearer: r.bearer = v; break;
      case Slot.ClientIp: r.clientIp = v; break;
      case Slot.Method: r.method = v; break;
      case Slot.Scheme: scheme = v; break;
      case Slot.Host: host = v; break;
      case Slot.Port: port = v; break;
      case Slot.Path: path = v; break;
      case Slot.Query: query = v; break;
      case Slot.Uri: uri = v; break;
      case Slot.Status: {
        const s = readCount(v, names[f]!, STATUS_MAX);
        if (typeof s === 'string') return { ok: false, reason: s };
        status = s;
        break;
      }
      case Slot.Bytes: {
        const b = readCount(v, names[f]!, COUNT_MAX);
        if (typeof b === 'string') return { ok: false, reason: b };
        bytes = b;
        break;
      }
      case Slot.ClientHeader: if (v !== null) client.push([headerNames[f]!, v]); break;
      case Slot.UpstreamHeader: if (v !== null) upstream.push([headerNames[f]!, v]); break;
      default: break;
    }
  }
  if (hasSeconds) {
    if (seconds === null) return { ok: false, reason: `${tsField}: absent` };
    const whole = parseEpochSeconds(seconds);
    const ms = subsecond === null ? 0 : /^\d{1,3}$/.test(subsecond) ? Number(subsecond) : -1;
    if (whole === null || ms < 0) return { ok: false, reason: `${tsField}: ${JSON.stringify(subsecond === null ? seconds : `${seconds}.${subsecond}`)} is not epoch seconds` };
    ts = whole + ms;
  } else if (wholeSeconds && subsecond !== null && ts !== null) {
    if (!/^\d{1,3}$/.test(subsecond)) return { ok: false, reason: `${subsecondField}: ${JSON.stringify(subsecond)} is not milliseconds (0 to 999)` };
    ts += Number(subsecond);
  }
  if (ts === null) {
    if (date === null || time === null) return { ok: false, reason: `${date === null ? 'date' : 'time'}: absent` };
    ts = parseW3cDateTime(date, time);
    if (ts === null) return { ok: false, reason: `date and time: ${JSON.stringify(`${date} ${time}`)} is not YYYY-MM-DD hh:mm[:ss[.fraction]]` };
  }
  return assembleRequest(text, ts, r, { uri, scheme, host, port, path, query }, TARGET_NAMES, overlay(client, upstream), status, bytes);
}
