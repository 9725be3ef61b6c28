#!/usr/bin/env node
'use strict';
// Runs the compiled CLI, so no TypeScript compiler sits in the gateway's memory. `npm ci` builds it (root prepare script).
let cli;
try {
  cli = require('../dist/cli.js');
} catch (err) {
  if (err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes('dist/cli.js')) throw err;
  process.stderr.write('switchyard: gateway/dist/cli.js is missing; run `npm run build` first\n');
  process.exit(1);
}
cli.main();
