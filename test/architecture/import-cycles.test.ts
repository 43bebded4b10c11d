import test from 'ava';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** The modules a file loads at run time: static and dynamic imports and re-exports (`import type` too, with `types`). */
export function runtimeImports(file: string, types = false): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  const kind = types ? '' : '(?!type\\b)';
  const patterns = [new RegExp(`^\\s*import\\s+${kind}[^'";]*?from\\s+'(\\.[^']+)'`, 'gm'), /^\s*import\s+'(\.[^']+)'/gm, new RegExp(`^\\s*export\\s+${kind}[^'";]*?from\\s+'(\\.[^']+)'`, 'gm'), /import\(\s*'(\.[^']+)'\s*\)/g];
  for (const pattern of patterns) for (const m of text.matchAll(pattern)) found.push(resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')));
  return found;
}

function cycles(files: string[], root = SRC, types = false): string[][] {
  const graph = new Map(files.map((f) => [f, [...new Set(runtimeImports(f, types))].filter((d) => files.includes(d))]));
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 'open') found.push([...stack.slice(stack.indexOf(d)), d].map((p) => relative(root, p)));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return found;
}

test('no module in src/ imports itself back at run time, directly or through others', (t) => {
  const files = sources(SRC);
  t.true(files.length > 50);
  t.deepEqual(cycles(files).map((c) => c.join(' → ')), []);
  // Type-only cycles cost nothing at run time, but they tie modules together all the same.
  t.deepEqual(cycles(files, SRC, true).map((c) => c.join(' → ')), []);
});

test('the cycle finder finds a cycle; type-only imports count only when asked', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pylon-cycles-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a.ts'), "import { b } from './b.js';\nexport const a = 1;\n");
  writeFileSync(join(dir, 'b.ts'), "export const b = async () => (await import('./c.js')).c;\n");
  writeFileSync(join(dir, 'c.ts'), "import type { A } from './a.js';\nexport { a as c } from './a.js';\n");
  writeFileSync(join(dir, 'd.ts'), "import type { A } from './a.js';\nexport const d = 1;\n");
  writeFileSync(join(dir, 'e.ts'), "import type { F } from './f.js';\nexport type E = F;\n");
  writeFileSync(join(dir, 'f.ts'), "import type { E } from './e.js';\nexport type F = string | E[];\n");
  const all = ['a.ts', 'b.ts', 'c.ts', 'd.ts', 'e.ts', 'f.ts'].map((f) => join(dir, f));
  t.deepEqual(cycles(all, dir), [['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  t.deepEqual(cycles(all, dir, true), [['a.ts', 'b.ts', 'c.ts', 'a.ts'], ['e.ts', 'f.ts', 'e.ts']]);
  const edges = runtimeImports(join(SRC, 'import/run-import.ts')).map((p) => relative(SRC, p));
  t.true(edges.includes('run/open-run.ts'));
  t.false(edges.includes('pylon/api.ts'), 'type-only imports are not run-time edges');
});
