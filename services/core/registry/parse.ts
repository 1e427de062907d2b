// Reads the partner registry from YAML or JSON and validates it as a whole: every problem
// is collected with its path (`partners[3].domains[1]: …`) and a registry with any problem
// is refused. Text in, a frozen Registry out; no I/O. How large registries are read and
// what YAML may hold: README "Partner registry", "Large registries".
import {
  CORE_SCHEMA, EVENT_ID, YAMLException, binaryTag, constructFromEvents, omapTag, pairsTag, parseEvents, setTag, timestampTag,
  type Event,
} from 'js-yaml';
import { isSupportedCountry } from 'libphonenumber-js';
import { LeakscopeError } from '../errors.js';
import type { PartnerEntry, Registry } from '../types.js';
import { parseDomainPattern } from './pattern.js';

const TOP_KEYS = ['version', 'region', 'identity_headers', 'partners'] as const;
const PARTNER_KEYS = ['id', 'name', 'purposes', 'domains', 'identifiers', 'valid_from', 'valid_to'] as const;

/** RFC 9110 `token`: the characters a header field name may contain. */
const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/i;
/** Partner ids are used as Kafka keys and in reports: a short lower-case slug. */
const PARTNER_ID = /^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$/;
/** ISO-8601 date-time with a zone; seconds and fraction optional. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
const MAX_TEXT = 200;

type Plain = Record<string, unknown>;

class Problems {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }
}

function isPlainObject(value: unknown): value is Plain {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  // What YAML's explicit tags produce: named by what they are, not as "a mapping".
  if (value instanceof Date) return 'a timestamp (YAML !!timestamp; write the time as a quoted string)';
  if (value instanceof Uint8Array) return 'binary data (YAML !!binary)';
  if (value instanceof Set) return 'a set (YAML !!set)';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${quote(value)}`;
  if (typeof value === 'number') return `the number ${String(value)}`;
  return String(value);
}

function quote(value: string): string {
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}…"` : text;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

function checkKeys(problems: Problems, object: Plain, allowed: readonly string[], path: (key: string) => string): void {
  for (const key of Object.keys(object)) {
    if (allowed.includes(key)) continue;
    const near = allowed.find((name) => editDistance(key.toLowerCase(), name) <= 2);
    problems.add(path(key), `unknown key; allowed keys are ${allowed.join(', ')}${near ? ` (did you mean "${near}"?)` : ''}`);
  }
}

function readText(problems: Problems, path: string, value: unknown, what: string): string | null {
  if (typeof value !== 'string') {
    problems.add(path, `expected ${what} as a string, got ${describe(value)}${typeof value === 'number' ? ' (put it in quotes)' : ''}`);
    return null;
  }
  if (value.trim() === '') {
    problems.add(path, `${what} is empty`);
    return null;
  }
  if (value.length > MAX_TEXT || CONTROL.test(value)) {
    problems.add(path, `${quote(value)}: ${what} must be at most ${MAX_TEXT} characters without control characters`);
    return null;
  }
  return value;
}

function readList(problems: Problems, path: string, value: unknown, what: string, nonEmpty: boolean): readonly unknown[] | null {
  if (!Array.isArray(value)) {
    problems.add(path, `expected a list of ${what}, got ${describe(value)}`);
    return null;
  }
  if (nonEmpty && value.length === 0) {
    problems.add(path, `must list at least one of ${what}`);
    return null;
  }
  return value;
}

/** A header name as an identity header or an identifier: a token, lower-cased. Null after a problem. */
function readHeaderName(problems: Problems, path: string, value: unknown): string | null {
  if (typeof value !== 'string') {
    problems.add(path, `expected a header name, got ${describe(value)}`);
    return null;
  }
  if (value.toLowerCase().startsWith('header:')) {
    problems.add(path, `${quote(value)}: write the header name alone, as in ${quote(value.slice(7))}`);
    return null;
  }
  if (!HEADER_TOKEN.test(value)) {
    problems.add(path, `${quote(value)}: not a header name (letters, digits and !#$%&'*+-.^_\`|~ only)`);
    return null;
  }
  const name = value.toLowerCase();
  if (name === 'host') {
    problems.add(path, '"host": the Host header is never scanned, so it cannot carry a disclosure');
    return null;
  }
  return name;
}

/** ISO-8601 with a zone → epoch ms; null (absent/null) → null; undefined after a problem. */
function readTime(problems: Problems, path: string, value: unknown): number | null | undefined {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    problems.add(path, `expected an ISO-8601 time with a zone such as "2012-01-25T14:00:00Z", or null, got ${describe(value)}`);
    return undefined;
  }
  const m = DATE_TIME.exec(value);
  if (!m) {
    problems.add(path, `${quote(value)}: not an ISO-8601 time with a zone; write it as "2012-01-25T14:00:00Z" or "2012-01-25T14:00:00+00:00"`);
    return undefined;
  }
  const [, y, mo, d, h, mi, s = '0', frac = '0', zone] = m;
  const year = Number(y), month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(s);
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const local = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const check = new Date(local);
  const calendarOk = check.getUTCFullYear() === year && check.getUTCMonth() === month - 1 && check.getUTCDate() === day &&
    hour < 24 && minute < 60 && second < 60;
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const sign = zone![0] === '-' ? -1 : 1;
    const oh = Number(zone!.slice(1, 3)), om = Number(zone!.slice(4, 6));
    if (oh > 23 || om > 59) {
      problems.add(path, `${quote(value)}: the zone offset is out of range`);
      return undefined;
    }
    offsetMinutes = sign * (oh * 60 + om);
  }
  if (!calendarOk) {
    problems.add(path, `${quote(value)}: not a real date and time`);
    return undefined;
  }
  return local - offsetMinutes * 60_000;
}

function readRegion(problems: Problems, value: unknown): string | null {
  if (value === undefined) {
    // Required rather than defaulted: a wrong default region silently turns every
    // national-format number into someone else's number.
    problems.add('region', 'required: the ISO 3166-1 alpha-2 code of the operator\'s country (e.g. GB), used for national-format numbers');
    return null;
  }
  if (typeof value !== 'string' || !/^[A-Za-z]{2}$/.test(value)) {
    problems.add('region', `expected an ISO 3166-1 alpha-2 country code such as "GB", got ${describe(value)}`);
    return null;
  }
  const region = value.toUpperCase();
  if (!isSupportedCountry(region)) {
    problems.add('region', `${quote(value)}: not a country with a telephone numbering plan (ISO 3166-1 alpha-2)`);
    return null;
  }
  return region;
}

function readIdentityHeaders(problems: Problems, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list = readList(problems, 'identity_headers', value, 'header names', false);
  if (!list) return [];
  const names = new Set<string>();
  list.forEach((item, i) => {
    const path = `identity_headers[${i}]`;
    const name = readHeaderName(problems, path, item);
    if (name === null) return;
    if (name === 'referer') {
      problems.add(path, '"referer": the Referer is always scanned for the number; as an identity header every request with one would count as a disclosure');
      return;
    }
    names.add(name);
  });
  return [...names];
}

function readPartner(problems: Problems, value: unknown, index: number): PartnerEntry | null {
  const at = `partners[${index}]`;
  if (!isPlainObject(value)) {
    problems.add(at, `expected a partner (a mapping with keys ${PARTNER_KEYS.join(', ')}), got ${describe(value)}`);
    return null;
  }
  const before = problems.list.length;
  checkKeys(problems, value, PARTNER_KEYS, (key) => `${at}.${key}`);

  let id: string | null = null;
  if (value.id === undefined) problems.add(`${at}.id`, 'required: a short slug naming the partner, e.g. "ageverify"');
  else if (typeof value.id !== 'string' || !PARTNER_ID.test(value.id)) {
    problems.add(`${at}.id`, `${typeof value.id === 'string' ? quote(value.id) : describe(value.id)}: not a partner id ` +
      '(lower-case letters, digits, "-" and "_", starting and ending with a letter or digit, at most 64 characters)');
  } else id = value.id;

  const name = value.name === undefined
    ? (problems.add(`${at}.name`, 'required: the partner\'s legal or trading name'), null)
    : readText(problems, `${at}.name`, value.name, 'the partner name');

  const purposes: string[] = [];
  if (value.purposes !== undefined) {
    const list = readList(problems, `${at}.purposes`, value.purposes, 'purposes', false);
    list?.forEach((item, i) => {
      const purpose = readText(problems, `${at}.purposes[${i}]`, item, 'a purpose');
      if (purpose !== null) purposes.push(purpose);
    });
  }

  const domains: string[] = [];
  const domainList = value.domains === undefined
    ? (problems.add(`${at}.domains`, 'required: the domain patterns the partner receives identifiers on, e.g. ["*.ageverify.example"]'), null)
    : readList(problems, `${at}.domains`, value.domains, 'domain patterns', true);
  domainList?.forEach((item, i) => {
    const path = `${at}.domains[${i}]`;
    if (typeof item !== 'string') {
      problems.add(path, `expected a domain pattern such as "example.com" or "*.example.com", got ${describe(item)}`);
      return;
    }
    const parsed = parseDomainPattern(item);
    if (!parsed.ok) problems.add(path, parsed.problem);
    // Unicode and punycode spellings of one name normalise alike; duplicates merge.
    else if (!domains.includes(parsed.value.pattern)) domains.push(parsed.value.pattern);
  });

  const identifiers: string[] = [];
  const identifierList = value.identifiers === undefined
    ? (problems.add(`${at}.identifiers`, 'required: the identity headers (or "url", "referer") the partner may receive'), null)
    : readList(problems, `${at}.identifiers`, value.identifiers, 'identifiers (header names, "url" or "referer")', true);
  identifierList?.forEach((item, i) => {
    const identifier = readHeaderName(problems, `${at}.identifiers[${i}]`, item);
    if (identifier !== null && !identifiers.includes(identifier)) identifiers.push(identifier);
  });

  const validFrom = readTime(problems, `${at}.valid_from`, value.valid_from);
  const validTo = readTime(problems, `${at}.valid_to`, value.valid_to);
  if (typeof validFrom === 'number' && typeof validTo === 'number' && validFrom >= validTo) {
    problems.add(`${at}.valid_to`, `${quote(String(value.valid_to))} must be after valid_from ${quote(String(value.valid_from))} (valid_to is exclusive)`);
  }

  if (problems.list.length > before || id === null || name === null || validFrom === undefined || validTo === undefined) return null;
  return Object.freeze({
    id,
    name,
    purposes: Object.freeze(purposes),
    domains: Object.freeze(domains),
    identifiers: Object.freeze(identifiers),
    validFrom,
    validTo,
  });
}

/**
 * Entries sharing an id are periods of one partner: they must agree on its name. Checked
 * on every entry whose id and name can be read, even when the entry has other problems.
 */
function checkSamePartner(problems: Problems, items: readonly unknown[]): void {
  const first = new Map<string, { name: string; index: number }>();
  items.forEach((item, index) => {
    if (!isPlainObject(item) || typeof item.id !== 'string' || !PARTNER_ID.test(item.id) || typeof item.name !== 'string') return;
    const seen = first.get(item.id);
    if (!seen) first.set(item.id, { name: item.name, index });
    else if (seen.name !== item.name) {
      problems.add(`partners[${index}].name`, `${quote(item.name)} differs from ${quote(seen.name)} given for partner "${item.id}" ` +
        `at partners[${seen.index}]; entries with one id are periods of the same partner`);
    }
  });
}

/**
 * A registry written as JSON (its first character `{` or `[`) is read by JSON.parse, the
 * fastest reader there is. JSON.parse keeps the last of two equal keys silently, so they are
 * looked for first, as YAML refuses them.
 */
function jsonProblems(text: string): { value: unknown; problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /position (\d+)/.exec(message);
    const where = at ? positionOf(text, Number(at[1])) : '(root)';
    return { value: undefined, problems: [`${where}: not valid JSON: ${message.split('\n')[0]!.slice(0, 160)}`] };
  }
  const duplicate = firstDuplicateKey(text);
  if (duplicate !== null) {
    return { value: undefined, problems: [`${positionOf(text, duplicate.at)}: map keys must be unique; ${JSON.stringify(duplicate.key)} is repeated`] };
  }
  return { value, problems: [] };
}

function positionOf(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/**
 * The first key repeated within one object of a JSON text that JSON.parse accepted: a walk
 * over its strings and brackets, one Set of keys per open object.
 */
function firstDuplicateKey(text: string): { key: string; at: number } | null {
  const objects: Array<Set<string> | null> = []; // null for an array
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      const start = i;
      i++;
      let escaped = false;
      while (i < text.length) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \\ */) { escaped = true; i += 2; continue; }
        if (d === 34) break;
        i++;
      }
      const end = ++i;
      const keys = objects[objects.length - 1];
      if (keys) {
        let j = end;
        while (j < text.length && (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9 || text.charCodeAt(j) === 10 || text.charCodeAt(j) === 13)) j++;
        if (text.charCodeAt(j) === 58 /* : */) {
          const key = escaped ? (JSON.parse(text.slice(start, end)) as string) : text.slice(start + 1, end - 1);
          if (keys.has(key)) return { key, at: start };
          keys.add(key);
        }
      }
      continue;
    }
    if (c === 123 /* { */) objects.push(new Set());
    else if (c === 91 /* [ */) objects.push(null);
    else if (c === 125 /* } */ || c === 93 /* ] */) objects.pop();
    i++;
  }
  return null;
}

/**
 * YAML 1.2's core schema, plus YAML 1.1's explicit tags only so that a value written with one
 * is reported as what it is ("got a timestamp") rather than as an unknown tag. A plain
 * 2012-01-10T00:00:00Z stays a string, as the core schema reads it.
 */
const YAML_SCHEMA = CORE_SCHEMA.withTags({ ...timestampTag, implicit: false }, binaryTag, setTag, omapTag, pairsTag);
/** Nesting deeper than any registry needs is refused by the parser, with its place. */
const MAX_DEPTH = 64;
/** Aliases share what they name; expanded, a document may hold at most 2 × its written values + this. */
const ALIAS_ALLOWANCE = 1_000;

/**
 * A registry written in YAML is read by js-yaml's event parser: the `yaml` package's
 * document parser took about a minute and well over 1 GB for 100,000 partners
 * (bench/registry.ts). Syntax errors carry the parser's line and column; problems found
 * after parsing are named by their path, so no source ranges are kept.
 */
function yamlProblems(text: string): { value: unknown; problems: string[] } {
  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth: MAX_DEPTH });
  } catch (err) {
    return { value: undefined, problems: [yamlError(text, err)] };
  }
  const shape = documentShape(text, events);
  if (shape.problem !== null) return { value: undefined, problems: [shape.problem] };
  if (shape.documents === 0) return { value: undefined, problems: [] };
  try {
    return { value: constructFromEvents(events, { source: text, schema: YAML_SCHEMA })[0], problems: [] };
  } catch (err) {
    return { value: undefined, problems: [yamlError(text, err)] };
  }
}

/** A mapping key as written at a place: quoted, or plain up to its `:`. */
const KEY_AT = /"(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^\n:,{}[\]]+?(?=\s*:)/y;

function yamlError(text: string, err: unknown): string {
  if (err instanceof YAMLException) {
    const where = err.mark ? `line ${err.mark.line + 1}, column ${err.mark.column + 1}` : '(root)';
    if (err.reason === 'duplicated mapping key' && err.mark) {
      const at = err.mark.position;
      KEY_AT.lastIndex = at > 0 && (text[at - 1] === '"' || text[at - 1] === "'") ? at - 1 : at; // the mark may be inside the quotes
      const key = KEY_AT.exec(text)?.[0].trim();
      return `${where}: map keys must be unique; ${key ? `${quote(key)} is repeated` : 'this key is repeated'}`;
    }
    return `${where}: ${err.reason}`;
  }
  return `(root): cannot be read: ${String((err as Error | null)?.message ?? err).split('\n')[0]}`;
}

/** Where an event starts in the text, or -1 (a document or a pop has no place of its own). */
function eventStart(event: Event): number {
  switch (event.type) {
    case EVENT_ID.SEQUENCE:
    case EVENT_ID.MAPPING:
      return event.anchorStart >= 0 ? Math.min(event.anchorStart, event.start) : event.start;
    case EVENT_ID.SCALAR:
      return [event.anchorStart, event.tagStart, event.valueStart].filter((at) => at >= 0).reduce((a, b) => Math.min(a, b), Infinity);
    case EVENT_ID.ALIAS:
      return event.anchorStart;
    default:
      return -1;
  }
}

/**
 * One pass over the events: how many documents, and whether aliases stay within bounds.
 * js-yaml shares an aliased node rather than copying it, but whoever walks the result walks
 * it expanded; the expanded size is counted here (each node's size once, at its close) so a
 * "billion laughs" document is refused before anything walks it, and so is an alias to the
 * node that contains it (a cycle).
 */
function documentShape(text: string, events: readonly Event[]): { documents: number; problem: string | null } {
  const anchors = new Map<string, number>(); // name → expanded size; -1 while its node is open
  const open: Array<{ size: number; anchor: string | null }> = [];
  let documents = 0;
  let written = 0;
  let expanded = 0;
  const add = (size: number) => {
    const parent = open[open.length - 1];
    if (parent) parent.size += size;
  };
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    switch (event.type) {
      case EVENT_ID.DOCUMENT: {
        documents++;
        if (documents > 1) {
          // The place of its `---`, else of its first node.
          const node = events.slice(i + 1).map(eventStart).find((start) => start >= 0) ?? -1;
          const marker = event.explicitStart && node >= 0 ? text.lastIndexOf('\n---', node) : -1;
          const at = marker >= 0 ? marker + 1 : node;
          return { documents, problem: `${at >= 0 ? positionOf(text, at) : '(root)'}: a second YAML document starts here; a registry is one document` };
        }
        anchors.clear();
        open.push({ size: 0, anchor: null });
        break;
      }
      case EVENT_ID.SEQUENCE:
      case EVENT_ID.MAPPING: {
        written++;
        const anchor = event.anchorStart >= 0 ? text.slice(event.anchorStart, event.anchorEnd) : null;
        if (anchor !== null) anchors.set(anchor, -1);
        open.push({ size: 1, anchor });
        break;
      }
      case EVENT_ID.SCALAR:
        written++;
        if (event.anchorStart >= 0) anchors.set(text.slice(event.anchorStart, event.anchorEnd), 1);
        add(1);
        break;
      case EVENT_ID.ALIAS: {
        const size = anchors.get(text.slice(event.anchorStart, event.anchorEnd));
        if (size === -1) {
          return { documents, problem: `${positionOf(text, event.anchorStart)}: this alias names the node that contains it; a registry cannot be circular` };
        }
        add(size ?? 1); // an unknown anchor is refused, with its place, when the document is built
        break;
      }
      case EVENT_ID.POP: {
        const node = open.pop();
        if (!node) break;
        if (node.anchor !== null) anchors.set(node.anchor, node.size);
        if (open.length > 0) add(node.size);
        else expanded += node.size;
        break;
      }
    }
  }
  const limit = 2 * written + ALIAS_ALLOWANCE;
  if (expanded > limit) {
    return {
      documents,
      problem: `(root): cannot be read: its aliases expand ${written.toLocaleString('en-GB')} written values to ${expanded.toLocaleString('en-GB')}; ` +
        `at most ${limit.toLocaleString('en-GB')} are read, to stop an alias bomb`,
    };
  }
  return { documents, problem: null };
}

/**
 * Parses and validates a partner registry. Throws LeakscopeError `REGISTRY_INVALID` whose
 * `problems` name every problem found, each prefixed by its path (or line and column for
 * YAML syntax). Returns a deeply frozen Registry with normalised patterns and header names.
 */
export function parseRegistry(text: string, source: string): Registry {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const first = body.trimStart().charCodeAt(0);
  const { value: root, problems: syntax } = first === 123 /* { */ || first === 91 /* [ */ ? jsonProblems(body) : yamlProblems(body);
  const problems = new Problems();
  problems.list.push(...syntax);

  let registry: Registry | null = null;
  if (syntax.length === 0) {
    if (root === undefined || root === null) problems.add('(root)', 'the registry is empty; expected a mapping with keys version, region, partners');
    else if (!isPlainObject(root)) problems.add('(root)', `expected a mapping with keys ${TOP_KEYS.join(', ')}, got ${describe(root)}`);
    else registry = readRoot(problems, root);
  }
  if (problems.list.length > 0 || registry === null) {
    const n = problems.list.length;
    throw new LeakscopeError('REGISTRY_INVALID', `registry ${source} is invalid: ${n} problem${n === 1 ? '' : 's'}`, {
      problems: Object.freeze([...problems.list]),
    });
  }
  return registry;
}

function readRoot(problems: Problems, root: Plain): Registry | null {
  checkKeys(problems, root, TOP_KEYS, (key) => key);
  const version = root.version === undefined
    ? (problems.add('version', 'required: a label for this registry, stored with every verdict, e.g. "2012-01-25.1"'), null)
    : readText(problems, 'version', root.version, 'the version');
  const region = readRegion(problems, root.region);
  const identityHeaders = readIdentityHeaders(problems, root.identity_headers);

  const entries: PartnerEntry[] = [];
  if (root.partners === undefined) {
    problems.add('partners', 'required: the list of trusted partners (may be empty: [])');
  } else {
    const list = readList(problems, 'partners', root.partners, 'partners', false);
    list?.forEach((item, index) => {
      const entry = readPartner(problems, item, index);
      if (entry) entries.push(entry);
    });
    if (list) checkSamePartner(problems, list);
  }
  if (problems.list.length > 0 || version === null || region === null) return null;
  return Object.freeze({
    version,
    region,
    identityHeaders: Object.freeze(identityHeaders),
    partners: Object.freeze(entries),
  });
}
