// CLI dispatcher: picks the command by its leading words, runs it, and maps errors to
// exit codes (2 for refused input, 1 for a fault while running).
import { INPUT_ERROR_CODES, isLeakscopeError } from '../core/errors.js';
import type { CliIo, Command } from './command.js';
import { COMMANDS } from './commands/index.js';

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'leakscope: which websites received subscribers\' phone numbers from a header-enrichment gateway.',
    '',
    'Usage: leakscope <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `leakscope <command> --help` for a command\'s options.',
    'Exit codes: 0 done; 1 a fault while running; 2 bad usage or input that was refused.',
    '',
  ].join('\n');
}

function findCommand(argv: string[]): { command: Command; rest: string[] } | null {
  // Longest name first, so `registry validate` wins over a hypothetical `registry`.
  const sorted = [...COMMANDS].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length);
  for (const command of sorted) {
    const words = command.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) return { command, rest: argv.slice(words.length) };
  }
  return null;
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(topHelp());
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version') {
    io.stdout.write('leakscope 0.1.0\n');
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    io.stderr.write(`leakscope: unknown command "${argv.join(' ')}"\n\n${topHelp()}`);
    return 2;
  }
  if (found.rest.includes('--help') || found.rest.includes('-h')) {
    io.stdout.write(found.command.usage.endsWith('\n') ? found.command.usage : `${found.command.usage}\n`);
    return 0;
  }
  try {
    return await found.command.run(found.rest, io);
  } catch (err) {
    if (isLeakscopeError(err)) {
      io.stderr.write(`leakscope ${found.command.name}: ${withoutCommandPrefix(err.message, found.command.name)}\n`);
      for (const problem of err.problems) io.stderr.write(`  - ${problem}\n`);
      return INPUT_ERROR_CODES.has(err.code) ? 2 : 1;
    }
    io.stderr.write(`leakscope ${found.command.name}: unexpected fault: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/**
 * Messages are written once as `leakscope <command>: …`. Validation errors name where they
 * come from (`scan: --workers …`, `detect: …`), which for a command's own flags is the command
 * itself: that leading name is dropped here, so no message reads `leakscope scan: scan: …`.
 */
function withoutCommandPrefix(message: string, command: string): string {
  for (const prefix of [`leakscope ${command}: `, `${command}: `]) {
    if (message.startsWith(prefix)) return message.slice(prefix.length);
  }
  return message;
}
