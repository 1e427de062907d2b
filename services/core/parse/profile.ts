// Log profiles: which of a writer's fields feed which of leakscope's (the session's number,
// host, URL parts, headers, the gateway's action), in a small YAML file or built in for the
// writers operators run (README "Log formats"). Profiles are plain data so that scan workers
// receive them by structured clone. A profile file is checked in profile-schema.ts, with ajv,
// which only a command given a profile loads (ajv and typebox cost ≈ 240 ms of CPU to load).
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

/** A frozen profile; the rest from the defaults. */
export function profileOf(name: string, syntax: ProfileSyntax, rest: Partial<LogProfile>): LogProfile {
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
