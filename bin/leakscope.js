#!/usr/bin/env node
// Entry point of the leakscope CLI: the compiled code lives in dist/ (built by `npm ci` via "prepare").
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`leakscope: unexpected fault: ${err?.stack ?? err}\n`); process.exitCode = 1; },
);
