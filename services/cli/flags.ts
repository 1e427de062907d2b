// The one place CLI flags are parsed. A command declares its flags once (type, range, allowed
// values, default); node:util's parseArgs reads the syntax, then the values are checked by the
// same schema validation as every other configuration (services/config): every bad value is
// named at once, by its flag, with what was expected; defaults come from the declaration; the
// result is frozen and typed from the declaration. README "Configuration" lists the rules.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Type, type TSchema } from '@sinclair/typebox';
import { LeakscopeError } from '../core/errors.js';
import { validateConfig } from '../config/index.js';

export interface BooleanFlag {
  type: 'boolean';
}

export interface StringFlag {
  type: 'string';
  /** Value when the flag is not given. */
  default?: string;
  /** The only values accepted. */
  enum?: readonly string[];
  /** A regular expression the value must match, and what it accepts in words (`host:port`). */
  pattern?: string;
  expected?: string;
  /** Refuse an empty (or blank) value. */
  nonEmpty?: boolean;
}

export interface IntegerFlag {
  type: 'integer';
  default?: number;
  minimum?: number;
  maximum?: number;
}

export type FlagSpec = BooleanFlag | StringFlag | IntegerFlag;
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type ValueOf<F> = F extends BooleanFlag ? boolean
  : F extends IntegerFlag ? (F extends { default: number } ? number : number | undefined)
  : F extends { enum: readonly (infer E)[] } ? (F extends { default: string } ? E : E | undefined)
  : F extends { default: string } ? string : string | undefined;

/** The parsed flags, typed from their declaration. */
export type FlagValues<S extends FlagSpecs> = { readonly [K in keyof S]: ValueOf<S[K]> };

export interface ParsedFlags<S extends FlagSpecs> {
  values: FlagValues<S>;
  positionals: string[];
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The syntax only (node:util parseArgs, strict), its errors as USAGE errors that name the command. */
export function parseFlags<O extends Options>(command: string, argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new LeakscopeError('USAGE', `${command}: ${(err as Error).message}. See: leakscope ${command} --help`, { cause: err });
  }
}

const DECIMAL = /^[+-]?\d+$/;

/**
 * Parses and checks `argv` against `specs`. An integer flag must be written in decimal digits
 * (`--workers 0x10`, `1e3` and ` 3` are refused, where Number() would take them).
 */
export function parseCommandFlags<const S extends FlagSpecs>(command: string, argv: string[], specs: S): ParsedFlags<S> {
  const { values, positionals } = parseFlags(command, argv, syntaxOf(specs));
  const raw: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const spec = specs[name];
    if (value === undefined || spec === undefined) continue;
    if (spec.type === 'integer' && typeof value === 'string' && DECIMAL.test(value.trim())) raw[name] = Number(value.trim());
    else if (spec.type === 'string' && typeof value === 'string' && spec.nonEmpty === true) raw[name] = value.trim();
    else raw[name] = value;
  }
  const checked = validateConfig(schemaOf(specs), raw, {
    where: command, code: 'USAGE', flags: true,
  });
  return { values: checked as unknown as FlagValues<S>, positionals };
}

/**
 * One integer flag value, checked as parseCommandFlags checks it: for a value read elsewhere
 * (an environment variable, a flag declared as a string by older code).
 */
export function parseIntegerFlag(value: string | undefined, flag: string, range: Omit<IntegerFlag, 'type'>, command = 'leakscope'): number | undefined {
  const name = flag.replace(/^--/, '');
  const specs = { [name]: { type: 'integer', ...range } } as FlagSpecs;
  const raw = value === undefined ? {} : { [name]: DECIMAL.test(value.trim()) ? Number(value.trim()) : value };
  const checked = validateConfig(schemaOf(specs), raw, { where: command, code: 'USAGE', flags: true }) as Record<string, unknown>;
  return checked[name] as number | undefined;
}

/** Checks one string against allowed values, the way a declared `enum` flag is checked. */
export function parseEnumFlag<const E extends string>(value: string | undefined, flag: string, allowed: readonly E[], fallback: E, command = 'leakscope'): E {
  const name = flag.replace(/^--/, '');
  const specs = { [name]: { type: 'string', enum: allowed, default: fallback } } as FlagSpecs;
  const checked = validateConfig(schemaOf(specs), value === undefined ? {} : { [name]: value }, {
    where: command, code: 'USAGE', flags: true,
  }) as Record<string, unknown>;
  return checked[name] as E;
}

const syntaxCache = new WeakMap<FlagSpecs, Options>();
const schemaCache = new WeakMap<FlagSpecs, TSchema>();

function syntaxOf(specs: FlagSpecs): Options {
  let options = syntaxCache.get(specs);
  if (options === undefined) {
    options = Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { type: spec.type === 'boolean' ? 'boolean' : 'string' }])) as Options;
    syntaxCache.set(specs, options);
  }
  return options;
}

function schemaOf(specs: FlagSpecs): TSchema {
  let schema = schemaCache.get(specs);
  if (schema === undefined) {
    const properties: Record<string, TSchema> = {};
    for (const [name, spec] of Object.entries(specs)) properties[name] = flagSchema(spec);
    schema = Type.Object(properties, { additionalProperties: false });
    schemaCache.set(specs, schema);
  }
  return schema;
}

function flagSchema(spec: FlagSpec): TSchema {
  switch (spec.type) {
    case 'boolean':
      return Type.Boolean({ default: false });
    case 'integer': {
      const options = {
        ...(spec.minimum === undefined ? {} : { minimum: spec.minimum }),
        ...(spec.maximum === undefined ? {} : { maximum: spec.maximum }),
      };
      return spec.default === undefined ? Type.Optional(Type.Integer(options)) : Type.Integer({ ...options, default: spec.default });
    }
    case 'string': {
      const options = {
        ...(spec.enum === undefined ? {} : { enum: [...spec.enum] }),
        ...(spec.pattern === undefined ? {} : { pattern: spec.pattern }),
        ...(spec.expected === undefined ? {} : { expected: spec.expected }),
        ...(spec.nonEmpty === true ? { minLength: 1 } : {}),
      };
      return spec.default === undefined ? Type.Optional(Type.String(options)) : Type.String({ ...options, default: spec.default });
    }
  }
}
