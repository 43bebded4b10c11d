// Part of `npm run build`, after tsc: rewrites dist/cli/yargs.js (a re-export of yargs) as one
// ES module holding yargs and its dependencies, which Node loads much faster than the ~45 files
// it otherwise reads at every start (bench/startup.bench.ts). Without esbuild (a devDependency)
// the re-export is left as it is: the command works the same, only its start is slower.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'cli', 'yargs.js');
const require = createRequire(join(root, 'package.json'));

let esbuild;
try {
  esbuild = require('esbuild');
} catch {
  console.warn('bundle-yargs: esbuild is not installed; dist/cli/yargs.js stays a re-export of yargs (a slower start).');
  process.exit(0);
}
if (!existsSync(out)) throw new Error(`bundle-yargs: ${out} is missing: run tsc first`);

// yargs' platform shim finds its locale files and the application's package.json from its own
// file's location (import.meta.url). Inside the bundle that location is dist/cli/, so the shim is
// pointed at the yargs package where it is installed (a runtime dependency, so always present).
const SHIM_LOCATION = 'const __dirname = fileURLToPath(import.meta.url);';
const shimFromInstalledYargs = {
  name: 'yargs-shim-location',
  setup(build) {
    build.onLoad({ filter: /yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(SHIM_LOCATION)) throw new Error(`bundle-yargs: ${args.path} no longer has "${SHIM_LOCATION}"; update this script`);
      const located =
        "const __dirname = resolve(dirname(createRequire(import.meta.url).resolve('yargs/package.json')), 'lib', 'platform-shims', 'esm.mjs');";
      return { contents: source.replace(SHIM_LOCATION, located), loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

// Every `string-width` in yargs' tree (cliui, wrap-ansi, yargs) becomes scripts/string-width-fast.mjs,
// whose own `string-width` is the one yargs depends on.
const fastWidth = join(root, 'scripts', 'string-width-fast.mjs');
const yargsRequire = createRequire(require.resolve('yargs/package.json'));
const stringWidthFast = {
  name: 'string-width-fast',
  setup(build) {
    build.onResolve({ filter: /^string-width$/ }, (args) =>
      args.importer === fastWidth ? { path: yargsRequire.resolve('string-width') } : { path: fastWidth },
    );
  },
};

await esbuild.build({
  stdin: { contents: "export { default } from 'yargs';\nexport { hideBin } from 'yargs/helpers';\n", resolveDir: root, sourcefile: 'yargs-entry.js' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: out,
  allowOverwrite: true,
  plugins: [shimFromInstalledYargs, stringWidthFast],
  legalComments: 'inline',
  logLevel: 'warning',
});
// tsc's source map described the re-export, not the bundle.
const { rmSync } = await import('node:fs');
rmSync(`${out}.map`, { force: true });
