// W3C Extended Log File Format gateway logs → GatewayRequest, per the README's "Log formats".
// Stateful only in the `#Fields:` directive in force, which may be declared
// again anywhere and applies from there on. Pure otherwise; never throws on a line.
import type { ParseResult } from '../types.js';
import { isBlank, stripLineEnd } from './line-text.js';
import type { LogProfile } from './profile.js';
import { isNotForwarded, NOT_FORWARDED, plusToSpace, splitTabbed, targetOfField, W3C_NOT_FORWARDED } from './w3c-profile.js';
import { assembleRequest, type TargetFieldNames } from './assemble.js';
import { COUNT_MAX, readCount, STATUS_MAX } from './counts.js';
import { isW3cDate, parseW3cDateTime } from './time.js';

const SKIP: ParseResult = { ok: 'skip' };

/** RFC 9110 `token`: what a header name may be (the registry holds header names to it as well). */
const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/** What a declared field feeds. Numbers, so the per-line dispatch is a switch on a small int. */
const enum Slot {
  Ignored,
  Date,
  Time,
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
  /** The gateway's action (ProxySG s-action, a profile's not_forwarded field): some values mean "not forwarded". */
  Action,
}

const NAMED_SLOTS: ReadonlyMap<string, Slot> = new Map([
  ['date', Slot.Date],
  ['time', Slot.Time],
  ['x-gateway-id', Slot.GatewayId],
  ['x-request-id', Slot.RequestId],
  ['x-msisdn', Slot.Msisdn],
  ['x-bearer', Slot.Bearer],
  ['c-ip', Slot.ClientIp],
  ['cs-method', Slot.Method],
  ['cs-uri-scheme', Slot.Scheme],
  ['cs-host', Slot.Host],
  ['cs-uri-port', Slot.Port],
  ['cs-uri-path', Slot.Path],
  // IIS writes the path as cs-uri-stem; it is the same thing.
  ['cs-uri-stem', Slot.Path],
  ['cs-uri-query', Slot.Query],
  ['cs-uri', Slot.Uri],
  ['sc-status', Slot.Status],
  ['sc-bytes', Slot.Bytes],
  // Other writers' names for the session's number (README "Log formats").
  ['c-msisdn', Slot.Msisdn],
  ['x-calling-station-id', Slot.Msisdn],
  // CloudFront: the host the viewer asked for (its cs(Host) is the distribution's name) and the scheme.
  ['x-host-header', Slot.Host],
  ['cs-protocol', Slot.Scheme],
]);

/** leakscope field names of a profile's `fields:` → slots. */
const TARGET_SLOTS: ReadonlyMap<string, Slot> = new Map([
  ['ignore', Slot.Ignored], ['date', Slot.Date], ['time', Slot.Time], ['gateway_id', Slot.GatewayId],
  ['request_id', Slot.RequestId], ['msisdn', Slot.Msisdn], ['bearer', Slot.Bearer], ['client_ip', Slot.ClientIp],
  ['method', Slot.Method], ['scheme', Slot.Scheme], ['host', Slot.Host], ['port', Slot.Port], ['path', Slot.Path],
  ['query', Slot.Query], ['url', Slot.Uri], ['status', Slot.Status], ['bytes', Slot.Bytes],
]);

interface FieldPlan {
  /** The declared names, as written, for reasons. */
  names: readonly string[];
  slots: readonly Slot[];
  /** Lower-case header name for ClientHeader/UpstreamHeader slots, '' otherwise. */
  headerNames: readonly string[];
  hasDate: boolean;
  hasTime: boolean;
  /** Per field: for Action slots, the values meaning "not forwarded". */
  notForwarded: ReadonlyArray<ReadonlySet<string> | null>;
  /** Declared fields nobody reads, as written. */
  unread: readonly string[];
  /** `+` in header and msisdn values stands for a space (IIS). */
  plusIsSpace: boolean;
  /** Values are separated by single tabs (CloudFront): set by the first line that splits only so. */
  tabbed: boolean;
}

/** `#Fields: a b c` → the plan, or a reason. Field identifiers are case-insensitive. */
function planFields(directive: string, profile: LogProfile | null, plusIsSpace: boolean): FieldPlan | string {
  const names = directive.slice('#Fields:'.length).split(/[ \t]+/).filter((n) => n.length > 0);
  if (names.length === 0) return '#Fields: declares no fields';
  const slots: Slot[] = [];
  const headerNames: string[] = [];
  // A field named twice (`date … date`, `cs-host … cs-host`, `cs-uri-path … cs-uri-stem`)
  // would let the last value silently win: the directive is refused.
  const seen = new Map<Slot, string>();
  const notForwarded: Array<ReadonlySet<string> | null> = [];
  const unread: string[] = [];
  for (const name of names) {
    const lower = name.toLowerCase();
    let slot = NAMED_SLOTS.get(lower) ?? Slot.Ignored;
    let header = '';
    const target = targetOfField(profile, lower);
    const rule = W3C_NOT_FORWARDED.get(lower) ?? null;
    const profileRule = profile?.notForwarded.find((r) => r.field === lower)?.values ?? null;
    if (target !== null) {
      if (target.startsWith('header:')) [slot, header] = [Slot.UpstreamHeader, target.slice(7)];
      else if (target.startsWith('client_header:')) [slot, header] = [Slot.ClientHeader, target.slice(14)];
      else slot = TARGET_SLOTS.get(target) ?? Slot.Ignored;
    } else if (profileRule !== null || (rule !== null && slot === Slot.Ignored)) {
      slot = Slot.Action;
    }
    notForwarded.push(slot === Slot.Action ? new Set([...(rule ?? []), ...(profileRule ?? [])]) : null);
    const open = lower.indexOf('(');
    if (slot === Slot.Ignored && target === null && open > 0 && lower.endsWith(')')) {
      const prefix = lower.slice(0, open);
      header = lower.slice(open + 1, -1);
      if (header.length === 0) return `#Fields: ${name}: no header name between the parentheses`;
      if (!HEADER_TOKEN.test(header)) return `#Fields: ${JSON.stringify(name).slice(0, 80)}: the header name is not an HTTP token`;
      if (prefix === 'cs') slot = Slot.ClientHeader;
      else if (prefix === 'sr') slot = Slot.UpstreamHeader;
      else header = ''; // sc(…), rs(…): response headers, not what was sent upstream
    }
    // Header fields may repeat: `cs(Cookie) cs(Cookie)` are two values of one header, both kept;
    // so may the writer's action fields (`s-action`, `sc-filter-result`): each may say "denied".
    if (slot !== Slot.Ignored && slot !== Slot.ClientHeader && slot !== Slot.UpstreamHeader && slot !== Slot.Action) {
      const first = seen.get(slot);
      if (first !== undefined) {
        return `#Fields: ${first.toLowerCase() === lower ? `${name} is named twice` : `${first} and ${name} name the same field`}; ` +
          'the line is refused, and so are its data lines until the next good #Fields';
      }
      seen.set(slot, name);
    }
    if (slot === Slot.Ignored && target !== 'ignore') unread.push(name);
    slots.push(slot);
    headerNames.push(header);
  }
  return {
    names,
    slots,
    headerNames,
    hasDate: slots.includes(Slot.Date),
    hasTime: slots.includes(Slot.Time),
    notForwarded,
    unread,
    plusIsSpace,
    tabbed: false,
  };
}

/**
 * Splits a data line into values: separated by runs of spaces or tabs; `-` alone is absent
 * (null); a value starting with `"` runs to the next `"` not doubled, with `""` standing
 * for one quote, and must be followed by a separator or the end. A quoted `"-"` is a
 * literal dash, not absent. Fills `out` and returns the number of values, or a reason.
 */
function splitValues(text: string, out: (string | null)[], names: readonly string[]): number | string {
  const n = text.length;
  let i = 0;
  let count = 0;
  for (;;) {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 32 && c !== 9) break;
      i++;
    }
    if (i >= n) return count;
    let value: string | null;
    if (text.charCodeAt(i) === 34 /* " */) {
      let from = i + 1;
      let acc = '';
      for (;;) {
        const q = text.indexOf('"', from);
        if (q < 0) {
          return `unterminated quoted value in field ${count + 1}${fieldLabel(names, count)}`;
        }
        if (text.charCodeAt(q + 1) === 34) {
          acc += text.slice(from, q + 1);
          from = q + 2;
          continue;
        }
        value = acc + text.slice(from, q);
        i = q + 1;
        break;
      }
      if (i < n) {
        const c = text.charCodeAt(i);
        if (c !== 32 && c !== 9) {
          return `unexpected character after the closing quote of field ${count + 1}${fieldLabel(names, count)} at column ${i + 1}`;
        }
      }
    } else {
      const start = i;
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c === 32 || c === 9) break;
        i++;
      }
      value = i - start === 1 && text.charCodeAt(start) === 45 /* - */ ? null : text.slice(start, i);
    }
    if (count < out.length) out[count] = value;
    count++;
  }
}

function fieldLabel(names: readonly string[], index: number): string {
  const name = names[index];
  return name === undefined ? '' : ` (${name})`;
}

const TARGET_NAMES: TargetFieldNames = {
  uri: 'cs-uri', host: 'cs-host', port: 'cs-uri-port', missingHost: 'missing host: no cs-host, no host in cs-uri and no Host header',
};

/** Overlays upstream (`sr`) headers on client (`cs`) ones; see createW3cParser for the rules. */
function overlay(
  client: Array<readonly [string, string]>,
  upstream: Array<readonly [string, string]>,
): Array<readonly [string, string]> {
  if (upstream.length === 0) return client;
  const replaced = new Map<string, string[]>();
  for (const [name, value] of upstream) {
    const values = replaced.get(name);
    if (values === undefined) replaced.set(name, [value]);
    else values.push(value);
  }
  const out: Array<readonly [string, string]> = [];
  const placed = new Set<string>();
  for (const entry of client) {
    const values = replaced.get(entry[0]);
    if (values === undefined) {
      out.push(entry);
    } else if (!placed.has(entry[0])) {
      placed.add(entry[0]);
      for (const v of values) out.push([entry[0], v]);
    }
  }
  for (const [name, values] of replaced) {
    if (!placed.has(name)) for (const v of values) out.push([name, v]);
  }
  return out;
}

export interface W3cParser {
  /** One line (with or without its CR/LF): a request, a reject, or a skip for directives and blank lines. */
  parseLine(line: string): ParseResult;
  /** Fields declared since the last call that nobody reads. */
  unreadFields(): readonly string[];
}

/**
 * A parser for one W3C log stream; it remembers the `#Fields:` in force, so use one per
 * file. Headers forwarded upstream are the `cs(Name)` values overlaid by `sr(Name)`: an
 * `sr` value replaces every `cs` value of the same name (names compare case-insensitively)
 * at the place of the first one. An `sr` value of `-` is absent — the log says nothing
 * about that header — so the `cs` value stays: `-` cannot tell "stripped by the gateway"
 * from "not logged", and keeping what the client sent errs towards reporting a disclosure.
 * Target fields: `cs-uri` (full or origin-form) is read first, then `cs-uri-scheme`,
 * `cs-host`, `cs-uri-port`, `cs-uri-path`/`cs-uri-stem`, `cs-uri-query` override it where
 * present; with no host in either, the Host header is used.
 */
export function createW3cParser(profile: LogProfile | null = null): W3cParser {
  let plan: FieldPlan | null = null;
  /** Set by a `#Software:` directive naming IIS, which writes spaces in values as `+`. */
  let softwarePlus = false;
  let unreadPending: readonly string[] = [];
  /** True after a #Fields directive was refused: data lines are rejected until a good one. */
  let refused = false;
  let values: (string | null)[] = [];

  function parseData(text: string): ParseResult {
    if (plan === null) {
      return { ok: false, reason: refused ? 'data line after a refused #Fields directive' : 'data line before any #Fields directive' };
    }
    let n = plan.tabbed ? splitTabbed(text, values) : splitValues(text, values, plan.names);
    if (n !== plan.slots.length && !plan.tabbed && text.includes('\t') && splitTabbed(text, values) === plan.slots.length) {
      // Tab-separated writers (CloudFront) allow spaces inside values: a line that splits into
      // the declared fields only at its tabs says the file is one of them.
      plan.tabbed = true;
      n = plan.slots.length;
    }
    if (typeof n === 'string') return { ok: false, reason: n };
    if (n !== plan.slots.length) {
      return { ok: false, reason: `${n} values for the ${plan.slots.length} fields declared by #Fields` };
    }
    if (!plan.hasDate || !plan.hasTime) {
      return { ok: false, reason: `#Fields declares no ${plan.hasDate ? 'time' : 'date'} field, so the request has no time` };
    }
    let date: string | null = null;
    let time: string | null = null;
    let gatewayId: string | null = null;
    let requestId: string | null = null;
    let msisdn: string | null = null;
    let bearer: string | null = null;
    let clientIp: string | null = null;
    let method: string | null = null;
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
    const { slots, headerNames, plusIsSpace } = plan;
    for (let f = 0; f < n; f++) {
      const v = values[f]!;
      switch (slots[f]) {
        case Slot.Date: date = v; break;
        case Slot.Time: time = v; break;
        case Slot.GatewayId: gatewayId = v; break;
        case Slot.RequestId: requestId = v; break;
        case Slot.Msisdn: msisdn = plusIsSpace && v !== null ? plusToSpace(v) : v; break;
        case Slot.Bearer: bearer = v; break;
        case Slot.ClientIp: clientIp = v; break;
        case Slot.Method: method = v; break;
        case Slot.Scheme: scheme = v; break;
        case Slot.Host: host = v; break;
        case Slot.Port: port = v; break;
        case Slot.Path: path = v; break;
        case Slot.Query: query = v; break;
        case Slot.Uri: uri = v; break;
        case Slot.Status: {
          const s = readCount(v, plan.names[f]!, STATUS_MAX);
          if (typeof s === 'string') return { ok: false, reason: s };
          status = s;
          break;
        }
        case Slot.Bytes: {
          const b = readCount(v, plan.names[f]!, COUNT_MAX);
          if (typeof b === 'string') return { ok: false, reason: b };
          bytes = b;
          break;
        }
        case Slot.ClientHeader: if (v !== null) client.push([headerNames[f]!, plusIsSpace ? plusToSpace(v) : v]); break;
        case Slot.UpstreamHeader: if (v !== null) upstream.push([headerNames[f]!, plusIsSpace ? plusToSpace(v) : v]); break;
        case Slot.Action: if (v !== null && isNotForwarded(v, plan.notForwarded[f]!)) return NOT_FORWARDED; break;
        default: break;
      }
    }
    if (date === null || time === null) return { ok: false, reason: `${date === null ? 'date' : 'time'}: absent (-)` };
    const ts = parseW3cDateTime(date, time);
    if (ts === null) {
      return isW3cDate(date)
        ? { ok: false, reason: `time: ${JSON.stringify(time)} is not hh:mm[:ss[.fraction]]` }
        : { ok: false, reason: `date: ${JSON.stringify(date)} is not a date YYYY-MM-DD` };
    }
    return assembleRequest(text, ts, { gatewayId, requestId, msisdn, bearer, clientIp, method }, { uri, scheme, host, port, path, query },
      TARGET_NAMES, overlay(client, upstream), status, bytes);
  }

  return {
    parseLine(line: string): ParseResult {
      const text = stripLineEnd(line);
      if (text.charCodeAt(0) === 35 /* # */) {
        if (text.length >= 8 && text.slice(0, 8).toLowerCase() === '#fields:') {
          const next = planFields(text, profile, profile?.plusIsSpace ?? softwarePlus);
          if (typeof next === 'string') {
            // The lines that follow were written for the refused layout: reading them with the
            // previous one would put values in the wrong fields, so they are rejected until
            // the next good #Fields.
            plan = null;
            refused = true;
            return { ok: false, reason: next };
          }
          plan = next;
          unreadPending = next.unread;
          refused = false;
          values = new Array<string | null>(next.slots.length).fill(null);
        } else if (text.length >= 10 && text.slice(0, 10).toLowerCase() === '#software:') {
          softwarePlus = /internet information services/i.test(text);
        }
        return SKIP;
      }
      if (isBlank(text)) return SKIP;
      return parseData(text);
    },
    unreadFields(): readonly string[] {
      const list = unreadPending;
      unreadPending = [];
      return list;
    },
  };
}
