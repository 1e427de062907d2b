// The log-format flags shared by the commands that read gateway logs (scan, ship, watch):
// `--format`, `--profile FILE` and `--squid-logformat FORMAT`, resolved once into the syntax
// to read and the profile that maps the writer's fields (README "Log formats").
import { resolve } from 'node:path';
import { LeakscopeError } from '../core/errors.js';
import { builtInProfile, isWriterFormat, withSquidLogformat, WRITER_FORMATS, type LogProfile } from '../core/parse/index.js';
import type { LogFormat } from '../core/types.js';
import { readProfileFile } from '../files/index.js';

/** `--format` values: auto, ndjson, and every writer with a built-in profile. */
export const FORMAT_CHOICES: readonly string[] = ['auto', 'ndjson', ...WRITER_FORMATS];

/** For a command's flags (parseCommandFlags checks --format against the choices with the other flags). */
export const LOG_FORMAT_FLAG_OPTIONS = {
  format: { type: 'string', enum: FORMAT_CHOICES },
  profile: { type: 'string' },
  'squid-logformat': { type: 'string' },
} as const;

export const LOG_FORMAT_FLAGS_USAGE = [
  `  --format F            ${FORMAT_CHOICES.join('|')} (default auto: NDJSON or W3C, told from`,
  '                        each file\'s first line; the others name a writer, README "Log formats")',
  '  --profile FILE        a log profile (YAML): which of the writer\'s fields are the session\'s',
  '                        number, host, URL, headers, and which actions mean "not forwarded"',
  '  --squid-logformat F   the logformat the Squid logs were written with (default: Squid\'s native one)',
].join('\n');

export interface LogFormatChoice {
  format: LogFormat | 'auto';
  /** Null for auto and ndjson: the formats' own fields. */
  profile: LogProfile | null;
}

/** Resolves the flags; refuses a combination that cannot mean one thing. */
export async function resolveLogFormat(
  command: string,
  values: { format?: string | undefined; profile?: string | undefined; 'squid-logformat'?: string | undefined },
  cwd: string,
): Promise<LogFormatChoice> {
  const format = values.format ?? 'auto';
  if (!FORMAT_CHOICES.includes(format)) {
    throw new LeakscopeError('USAGE', `${command}: --format ${JSON.stringify(format)} is not one of ${FORMAT_CHOICES.join(', ')}`);
  }
  let profile: LogProfile | null = null;
  if (values.profile !== undefined) {
    if (format !== 'auto') {
      throw new LeakscopeError('USAGE', `${command}: give --format or --profile, not both: the profile's format: key says which writer it is`);
    }
    profile = await readProfileFile(resolve(cwd, values.profile));
  } else if (isWriterFormat(format) && format !== 'w3c') {
    profile = builtInProfile(format);
  }
  const logformat = values['squid-logformat'];
  if (logformat !== undefined) {
    if (profile === null) throw new LeakscopeError('USAGE', `${command}: --squid-logformat needs --format squid (or a squid profile)`);
    profile = withSquidLogformat(profile, logformat);
  }
  if (profile !== null) return { format: profile.syntax, profile };
  return { format: format === 'w3c' ? 'w3c' : (format as 'auto' | 'ndjson'), profile: null };
}
