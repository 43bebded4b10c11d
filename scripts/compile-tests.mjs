// `npm test` (scripts/run-tests.mjs) runs this before ava: the TypeScript of src/ and test/
// compiled once with esbuild into .test-build/ (ignored by git), so ava's ~100 workers load plain
// JavaScript instead of each starting tsx and compiling the same files again (docs/development.md).
// Each module keeps the location of its source: import.meta.url is the .ts file's URL, and an
// import of a file that is not compiled (a .mjs script, a JSON file) points at the original. So
// fixtures, samples, dist/ and node_modules are found exactly as under tsx.
//   node scripts/compile-tests.mjs   → prints the folder (.test-build)
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const TEST_BUILD = join(root, '.test-build');

function typescriptFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .filter((file) => !relative(root, file).split(/[\\/]/).includes('fixtures'));
}

// `from './x.js'` / `import('./x.js')` stay (x.ts is compiled beside); any other relative specifier
// (`../../scripts/string-width-fast.mjs`) becomes the original file's URL.
const RELATIVE_SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.\.?\/[^'"]*)\2/g;

const keepSourceLocation = {
  name: 'keep-source-location',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const url = pathToFileURL(args.path).href;
      const contents = source
        .replaceAll('import.meta.url', JSON.stringify(url))
        .replace(RELATIVE_SPECIFIER, (match, keyword, quote, specifier) =>
          specifier.endsWith('.js') ? match : `${keyword}${quote}${pathToFileURL(resolve(dirname(args.path), specifier)).href}${quote}`,
        );
      return { contents, loader: 'ts' };
    });
  },
};

export async function compileTests() {
  const esbuild = createRequire(join(root, 'package.json'))('esbuild');
  rmSync(TEST_BUILD, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [...typescriptFiles(join(root, 'src')), ...typescriptFiles(join(root, 'test'))],
    outbase: root,
    outdir: TEST_BUILD,
    bundle: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
    plugins: [keepSourceLocation],
  });
  return TEST_BUILD;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) console.log(await compileTests());
