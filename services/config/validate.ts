// The one validation of configuration: a TypeBox schema per configuration (every field with
// its meaning, unit and default), checked by ajv. Every problem is named at once, unknown keys
// are refused (schemas say additionalProperties: false), defaults are filled in from the
// schema, and the result is frozen. What crosses this boundary: a schema and a plain value in,
// a frozen typed value or the list of problems out. The CLI's flags (services/cli/flags.ts)
// and each service's settings use it; README "Configuration" describes the rules.
import { type Static, type TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { LeakscopeError, type ErrorCode } from '../core/errors.js';

// allErrors: every problem in one message. useDefaults: the schema is the one place a default
// is written. strict: a schema keyword ajv does not know is a bug here, not ignored. No type
// coercion: ajv's would take "0x10", "1e3" or " 3" for numbers; flags convert decimal digits
// themselves (flags.ts) and leave anything else for the schema to refuse.
// verbose: errors carry their schema, from which messages take ranges and known keys.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true, verbose: true });
// `expected`: what a pattern accepts, in words ("host:port"), for the message; it validates nothing.
ajv.addKeyword('expected');
const compiled = new WeakMap<TSchema, ValidateFunction>();

/** One problem: where (a key path such as `spreadSites` or `files["1:2"].offset`), the value found, and what was expected. */
export interface ConfigProblem {
  path: string;
  value: unknown;
  message: string;
}

/** Every problem of `value` against `schema`, defaults filled in on `value` itself; [] when it is valid. */
export function configProblems(schema: TSchema, value: unknown): ConfigProblem[] {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => describe(error, value));
}

export interface ValidateOptions {
  /** Prefix of the message: `detector`, `ClickHouse`, `leakscope ship`. */
  where: string;
  /** Error code when refused (CONFIG_INVALID unless given). */
  code?: ErrorCode;
  /** Flags are named as typed: `--poll-ms "0": …` instead of `pollMs is 0: …`. */
  flags?: boolean;
}

/**
 * Validates `value` (a fresh object: defaults are written into it), throws one LeakscopeError
 * naming every problem, else returns it deeply frozen.
 */
export function validateConfig<S extends TSchema>(schema: S, value: unknown, options: ValidateOptions): Readonly<Static<S>> {
  const problems = configProblems(schema, value);
  if (problems.length > 0) {
    const lines = problems.map((p) => {
      const value = p.value === undefined ? '' : options.flags === true ? ` ${JSON.stringify(String(p.value))}` : ` is ${show(p.value)}`;
      return `${options.flags === true ? `--${p.path}` : p.path}${value}: ${p.message}`;
    });
    const message = lines.length === 1 ? `${options.where}: ${lines[0]}` : `${options.where}: ${lines.length} problems: ${lines.join('; ')}`;
    throw new LeakscopeError(options.code ?? 'CONFIG_INVALID', message, { problems: lines.length === 1 ? [] : lines });
  }
  return deepFreeze(value) as Readonly<Static<S>>;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function describe(error: ErrorObject, root: unknown): ConfigProblem {
  const segments = error.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    const key = String(params['additionalProperty']);
    const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    return { path: pathOf([...segments, key]), value: undefined, message: known.length === 0 ? 'unknown key' : `unknown key; expected one of ${known.join(', ')}` };
  }
  if (error.keyword === 'required') {
    return { path: pathOf([...segments, String(params['missingProperty'])]), value: undefined, message: 'missing' };
  }
  const value = segments.reduce<unknown>((v, s) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[s] : undefined), root);
  return { path: pathOf(segments), value, message: expectation(error) };
}

function expectation(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  const schema = error.parentSchema as { expected?: string; minimum?: number; maximum?: number; type?: string } | undefined;
  switch (error.keyword) {
    case 'type': {
      const type = String(params['type']);
      if (type.includes(',')) return `expected ${type.split(',').map((t) => (t === 'null' ? 'null' : `a ${t}`)).join(' or ')}`;
      const range = schema?.minimum !== undefined && schema.maximum !== undefined ? ` from ${schema.minimum} to ${schema.maximum}`
        : schema?.minimum !== undefined ? ` of at least ${schema.minimum}` : '';
      return `expected ${type === 'integer' ? 'a whole number' : type === 'array' ? 'a list' : type === 'object' ? 'a mapping' : `a ${type}`}${range}`;
    }
    case 'minimum': return schema?.maximum !== undefined ? `expected a whole number from ${String(params['limit'])} to ${schema.maximum}` : `expected at least ${String(params['limit'])}`;
    case 'maximum': return schema?.minimum !== undefined ? `expected a whole number from ${schema.minimum} to ${String(params['limit'])}` : `expected at most ${String(params['limit'])}`;
    case 'enum': return `expected one of ${(params['allowedValues'] as unknown[]).map(String).join(', ')}`;
    case 'const': return `expected ${show(params['allowedValue'])}`;
    case 'minLength': return Number(params['limit']) === 1 ? 'expected a non-empty value' : `expected at least ${String(params['limit'])} characters`;
    case 'maxLength': return `expected at most ${String(params['limit'])} characters`;
    case 'minItems': return `expected at least ${String(params['limit'])} item${Number(params['limit']) === 1 ? '' : 's'}`;
    // A pattern's schema says in words what it accepts ("host:port").
    case 'pattern': return `expected ${schema?.expected ?? `text matching ${String(params['pattern'])}`}`;
    default: return error.message ?? 'invalid';
  }
}

function pathOf(segments: readonly string[]): string {
  return segments.map((s, i) => (/^[A-Za-z_][\w-]*$/.test(s) ? `${i === 0 ? '' : '.'}${s}` : /^\d+$/.test(s) ? `[${s}]` : `[${JSON.stringify(s)}]`)).join('');
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
