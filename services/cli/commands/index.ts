// Every CLI command, in the order `leakscope --help` lists them. Add a command here.
import type { Command } from '../command.js';
import { registryValidate } from './registry-validate.js';
import { scan } from './scan.js';
import { report } from './report.js';
import { whoSaw } from './who-saw.js';
import { exportAffected } from './export-affected.js';
import { migrate } from './migrate.js';
import { registryPublish } from './registry-publish.js';
import { ship } from './ship.js';
import { detectCommand } from './detect.js';
import { createServeCommand } from './serve.js';
import { consolePlugin } from '../../serve/console/index.js';
import { usersAdd, usersList, usersRemove } from './users.js';
import { auditList, auditVerify } from './audit.js';
import { notifyCommand } from './notify.js';
import { watchCommand } from './watch.js';

export const COMMANDS: readonly Command[] = [
  scan,
  report,
  whoSaw,
  exportAffected,
  registryValidate,
  migrate,
  registryPublish,
  ship,
  detectCommand,
  createServeCommand({ console: consolePlugin }),
  usersAdd,
  usersList,
  usersRemove,
  auditList,
  auditVerify,
  notifyCommand,
  watchCommand,
];
