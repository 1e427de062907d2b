// A log profile as read from its file (README "Log formats"): a plain object in, a frozen
// LogProfile out, or every problem named by its path; no I/O. Its own module because of ajv and
// typebox, which cost ≈ 240 ms of CPU to load: the readers (the shipper's reading thread, scan
// workers) import profile.ts, and only a command given a profile file loads this.
import { Type, type Static } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import { LeakscopeError } from '../errors.js';
import { builtInProfile, profileOf, TARGET_FIELDS, TIME_FORMATS, WRITER_FORMATS, type LogProfile, type TimeFormat, type WriterFormat } from './profile.js';
import { parseSquidLogformat } from './squid-logformat.js';
import { squidLogformatProblem } from './squid.js';

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
  const base = builtInProfile(file.format);
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

function invalid(source: string, problems: string[]): LeakscopeError {
  return new LeakscopeError('CONFIG_INVALID',
    `log profile ${source} is invalid: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n  ${problems.join('\n  ')}`,
    { problems });
}
