// Every CLI command, in the order `leakscope --help` lists them. Add a command here.
import type { Command } from '../command.js';
import { registryValidate } from './registry-validate.js';

export const COMMANDS: readonly Command[] = [
  registryValidate,
];
