#!/usr/bin/env node
// Runs a compiled entry point of the monorepo: `node scripts/run-node.js apps/gateway/src/main`.
// The @ulo/* path aliases of tsconfig.json are mapped onto the compiled tree in dist/.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { register } = require('tsconfig-paths');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const entry = process.argv[2];
if (!entry) {
  process.stderr.write('usage: node scripts/run-node.js <path without extension, relative to the repo>\n');
  process.exit(64);
}
const target = path.join(dist, `${entry}.js`);
if (!fs.existsSync(target)) {
  process.stderr.write(`${path.relative(root, target)} does not exist: run \`npm run build\` first\n`);
  process.exit(66);
}
const { compilerOptions } = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
register({ baseUrl: dist, paths: compilerOptions.paths });
// Run it as the main module, so that `require.main === module` holds in the entry point.
process.argv.splice(1, 2, target);
require('node:module').runMain();
