// What a CLI command is, and the I/O it is given. Commands receive their streams and
// environment instead of touching `process`, so tests can run them in-process.

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface Command {
  /** The words that select it: `scan`, or `registry validate`. */
  readonly name: string;
  /** One line for `leakscope --help`. */
  readonly summary: string;
  /** Full usage text for `leakscope <name> --help`. */
  readonly usage: string;
  /** Returns the exit code: 0 done, 1 fault, 2 refused input (or throws a LeakscopeError). */
  run(argv: string[], io: CliIo): Promise<number>;
}

/**
 * Exit code of a command that finished but could not produce all of its output (an export
 * with rows that do not decrypt): the part written is good, the rest is named on stderr.
 */
export const EXIT_PARTIAL = 3;

// Flag parsing lives in flags.ts; parseFlags (the syntax alone) stays importable from here.
export { parseFlags } from './flags.js';
