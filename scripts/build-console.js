// The operator console (apps/gateway/console) bundled for the gateway to serve: one script with preact and
// htm inside, its stylesheet and page, in dist/console. Nothing is fetched from elsewhere at run time.
const { build } = require('esbuild');
const { copyFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const out = join(root, 'dist', 'console');

async function main() {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [
      { in: join(root, 'apps/gateway/console/src/main.ts'), out: 'console' },
      { in: join(root, 'apps/gateway/console/console.css'), out: 'console' },
    ],
    outdir: out,
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'esm',
    target: ['es2022'],
    legalComments: 'linked',
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'apps/gateway/console/index.html'), join(out, 'index.html'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
