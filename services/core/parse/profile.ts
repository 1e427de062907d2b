// Log profiles: which of a writer's fields feed which of leakscope's (the session's number,
// host, URL parts, headers, the gateway's action), in a small YAML file or built in for the
// writers operators run (README "Log formats"). A plain object in, a frozen LogProfile out,
// or every problem named by its path; no I/O. Profiles are plain data so that scan workers
// receive them by structured clone.
import { Type, type Static } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import { LeakscopeError } from '../errors.js';
import { parseSquidLogformat, SQUID_NATIVE_LOGFORMAT } from './squid-logformat.js';
import { squidLogformatProblem } from './squid.js';

/** The syntaxes a profile can read; the named writers below are profiles over them. */
export const PROFILE_SYNTAXES = ['w3c', 'csv', 'squid'] as const;
export type ProfileSyntax = (typeof PROFILE_SYNTAXES)[number];

/** `--format` and a profile's `format:` take these names. */
export const WRITER_FORMATS = ['w3c', 'proxysg', 'iis', 'cloudfront', 'squid', 'csv', 'tsv'] as const;
export type WriterFormat = (typeof WRITER_FORMATS)[number];

/** leakscope's fields a writer's field can feed (besides `header:NAME`, `client_header:NAME`). */
export const TARGET_FIELDS = [
  'ts', 'date', 'time', 'msisdn', 'gateway_id', 'request_id', 'bearer', 'client_ip', 'method',
  'scheme', 'host', 'port', 'path', 'query', 'url', 'status', 'bytes', 'ignore',
] as const;
export type TargetField = (typeof TARGET_FIELDS)[number];

/** `auto`: ISO-8601 with a zone, or epoch milliseconds, as NDJSON's `ts`. */
export const TIME_FORMATS = ['auto', 'iso', 'epoch_s', 'epoch_ms'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

/** A rule: the request was not forwarded when `field`'s value is one of `values`. */
export interface NotForwardedRule {
  /** The writer's field name, lower-case (for Squid: the logformat code, e.g. `%ss`). */
  readonly field: string;
  /** Upper-case; a value also matches by its part before `/` (Squid's `TCP_DENIED/403`). */
  readonly values: readonly string[];
}

export interface LogProfile {
  /** The built-in name, or the profile file's path: for messages. */
  readonly name: string;
  readonly syntax: ProfileSyntax;
  /** CSV only: the column separator. */
  readonly delimiter: string;
  /** Squid only: the logformat the lines were written with. */
  readonly squidLogformat: string | null;
  /** True: `+` in values stands for a space. Null: as the W3C `#Software:` directive says. */
  readonly plusIsSpace: boolean | null;
  /** How a `ts` field is written. */
  readonly timeFormat: TimeFormat;
  /** Writer's field name (lower-case) → a TargetField, `header:name` or `client_header:name` (lower-case). */
  readonly fields: Readonly<Record<string, string>>;
  readonly notForwarded: readonly NotForwardedRule[];
}

/**
 * The fields and rules each writer's documentation defines, so its logs need no profile.
 * The W3C writers' standard fields (ProxySG's s-action, CloudFront's x-host-header, IIS's
 * cs-uri-stem, …) are in the W3C parser's own list, so an auto-detected log needs no
 * --format either; these profiles add only what a directive cannot tell.
 */
const BUILT_IN: Record<WriterFormat, LogProfile> = {
  w3c: profileOf('w3c', 'w3c', {}),
  proxysg: profileOf('proxysg', 'w3c', {}),
  // IIS writes spaces in values as `+`; its #Software directive says so too, but a log cut
  // from the middle of a file may have lost it.
  iis: profileOf('iis', 'w3c', { plusIsSpace: true }),
  cloudfront: profileOf('cloudfront', 'w3c', {}),
  squid: profileOf('squid', 'squid', { squidLogformat: SQUID_NATIVE_LOGFORMAT, notForwarded: [{ field: '%ss', values: ['TCP_DENIED'] }] }),
  csv: profileOf('csv', 'csv', { delimiter: ',' }),
  tsv: profileOf('tsv', 'csv', { delimiter: '\t' }),
};

function profileOf(name: string, syntax: ProfileSyntax, rest: Partial<LogProfile>): LogProfile {
  return Object.freeze({
    name,
    syntax,
    delimiter: rest.delimiter ?? ',',
    squidLogformat: rest.squidLogformat ?? null,
    plusIsSpace: rest.plusIsSpace ?? null,
    timeFormat: rest.timeFormat ?? 'auto',
    fields: Object.freeze({ ...(rest.fields ?? {}) }),
    notForwarded: Object.freeze([...(rest.notForwarded ?? [])]),
  });
}

/** The built-in profile of a writer. */
export function builtInProfile(format: WriterFormat): LogProfile {
  return BUILT_IN[format];
}

export function isWriterFormat(name: string): name is WriterFormat {
  return (WRITER_FORMATS as readonly string[]).includes(name);
}

/** The profile file's shape; the checks a schema cannot say are done after it. */
const ProfileSchema = Type.Object(
  {
    format: Type.Unsafe<WriterFormat>({ type: 'string', enum: [...WRITER_FORMATS] }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    delimiter: Type.Optional(Type.String({ minLength: 1, maxLength: 1 })),
    squid_logformat: Type.Optional(Type.String({ minLength: 1, maxLength: 4000 })),
    plus_is_space: Type.Optional(Type.Boolean()),
    time_format: Type.Optional(Type.Unsafe<TimeFormat>({ type: 'string', enum: [...TIME_FORMATS] })),
    fields: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Type.String({ minLength: 1, maxLength: 200 }))),
    not_forwarded: Type.Optional(Type.Array(
      Type.Object(
        {
          field: Type.String({ minLength: 1, maxLength: 200 }),
          values: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1 }),
        },
        { additionalProperties: false },
      ),
    )),
  },
  { additionalProperties: false },
);
type ProfileFile = Static<typeof ProfileSchema>;

const ajv = new Ajv({ allErrors: true, strict: true });
const validateShape = ajv.compile<ProfileFile>(ProfileSchema);

/** RFC 9110 `token`: the characters a header field name may contain. */
const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/i;

/** One line per ajv error, path first, in the words of the registry's messages. */
function describeAjvError(e: ErrorObject): string {
  const path = e.instancePath === '' ? '(root)' : e.instancePath.slice(1).replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.');
  switch (e.keyword) {
    case 'additionalProperties':
      return `${path}: unknown key ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`;
    case 'required':
      return `${path}: missing key ${JSON.stringify((e.params as { missingProperty: string }).missingProperty)}`;
    case 'enum':
      return `${path}: expected one of ${(e.params as { allowedValues: string[] }).allowedValues.join(', ')}`;
    default:
      return `${path}: ${e.message ?? 'invalid'}`;
  }
}

/** A target as written (`msisdn`, `header:X-MSISDN`) → its stored form, or a problem. */
function readTarget(target: string): { ok: true; value: string } | { ok: false; reason: string } {
  const colon = target.indexOf(':');
  if (colon > 0) {
    const kind = target.slice(0, colon).toLowerCase();
    const name = target.slice(colon + 1);
    if (kind !== 'header' && kind !== 'client_header') {
      return { ok: false, reason: `${JSON.stringify(target)}: expected header:NAME or client_header:NAME` };
    }
    if (!HEADER_TOKEN.test(name)) return { ok: false, reason: `${JSON.stringify(target)}: ${JSON.stringify(name)} is not a header name` };
    return { ok: true, value: `${kind}:${name.toLowerCase()}` };
  }
  const lower = target.toLowerCase();
  if (!(TARGET_FIELDS as readonly string[]).includes(lower)) {
    return { ok: false, reason: `${JSON.stringify(target)} is not a leakscope field: expected one of ${TARGET_FIELDS.join(', ')}, header:NAME, client_header:NAME` };
  }
  return { ok: true, value: lower };
}

/**
 * Validates a profile as read from its file (any JSON value) and builds it on the built-in
 * profile its `format` names: the file's fields and rules add to the writer's own. Throws
 * CONFIG_INVALID listing every problem, each with its path.
 */
export function parseProfile(value: unknown, source: string): LogProfile {
  const problems: string[] = [];
  if (!validateShape(value)) {
    for (const e of validateShape.errors ?? []) problems.push(describeAjvError(e));
    throw invalid(source, problems);
  }
  const file = value;
  const base = BUILT_IN[file.format];
  const fields: Record<string, string> = { ...base.fields };
  for (const [name, target] of Object.entries(file.fields ?? {})) {
    const t = readTarget(target.trim());
    if (!t.ok) problems.push(`fields[${JSON.stringify(name)}]: ${t.reason}`);
    else fields[name.trim().toLowerCase()] = t.value;
  }
  if (file.delimiter !== undefined && base.syntax !== 'csv') problems.push(`delimiter: only for csv and tsv, not ${file.format}`);
  if (file.delimiter === '"' || file.delimiter === '\n' || file.delimiter === '\r') {
    problems.push(`delimiter: ${JSON.stringify(file.delimiter)} cannot separate columns`);
  }
  if (file.squid_logformat !== undefined) {
    if (base.syntax !== 'squid') problems.push(`squid_logformat: only for squid, not ${file.format}`);
    else {
      const parsed = parseSquidLogformat(file.squid_logformat);
      if (typeof parsed === 'string') problems.push(`squid_logformat: ${parsed}`);
    }
  }
  if (file.time_format !== undefined && base.syntax === 'w3c') problems.push('time_format: W3C logs write their time as date and time fields');
  const notForwarded = [...base.notForwarded];
  (file.not_forwarded ?? []).forEach((rule, i) => {
    const values = rule.values.map((v) => v.trim().toUpperCase());
    if (values.some((v) => v.length === 0)) problems.push(`not_forwarded[${i}].values: a value is blank`);
    notForwarded.push({ field: rule.field.trim().toLowerCase(), values });
  });
  const logformat = file.squid_logformat === undefined || base.syntax !== 'squid' ? null : parseSquidLogformat(file.squid_logformat);
  const unreadable = logformat === null || typeof logformat === 'string' ? null : squidLogformatProblem(logformat, { fields, notForwarded });
  if (unreadable !== null) problems.push(`squid_logformat: ${unreadable}`);
  if (problems.length > 0) throw invalid(source, problems);
  return profileOf(file.name ?? source, base.syntax, {
    delimiter: file.delimiter ?? base.delimiter,
    squidLogformat: file.squid_logformat ?? base.squidLogformat,
    plusIsSpace: file.plus_is_space ?? base.plusIsSpace,
    timeFormat: file.time_format ?? base.timeFormat,
    fields,
    notForwarded,
  });
}

/** A profile with another Squid logformat (`--squid-logformat`), checked. */
export function withSquidLogformat(profile: LogProfile, logformat: string): LogProfile {
  if (profile.syntax !== 'squid') {
    throw new LeakscopeError('USAGE', `--squid-logformat applies to squid logs, and the format is ${profile.name}`);
  }
  const parsed = parseSquidLogformat(logformat);
  const problem = typeof parsed === 'string' ? parsed : squidLogformatProblem(parsed, profile);
  if (problem !== null) throw new LeakscopeError('USAGE', `--squid-logformat: ${problem}`);
  return profileOf(profile.name, profile.syntax, { ...profile, squidLogformat: logformat });
}

function invalid(source: string, problems: string[]): LeakscopeError {
  return new LeakscopeError('CONFIG_INVALID',
    `log profile ${source} is invalid: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n  ${problems.join('\n  ')}`,
    { problems });
}
