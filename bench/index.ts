/**
 * `npm run bench [-- name ...]`: runs the benchmark modules in bench/*.bench.ts
 * and writes their latest results to bench/RESULTS.md (one section per module,
 * sections of modules not run this time are kept from the previous file).
 * A module exports `title` and `run(): Promise<string>` returning markdown.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import os from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const resultsPath = join(here, 'RESULTS.md');
const only = process.argv.slice(2);

interface BenchModule {
  title: string;
  run(): Promise<string>;
}

const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
const previous = await readFile(resultsPath, 'utf8').catch(() => '');
const sections = new Map<string, string>();
for (const match of previous.matchAll(/<!-- bench:(\S+) -->\n([\s\S]*?)<!-- \/bench:\1 -->/g)) {
  sections.set(match[1], match[2]);
}

for (const file of files) {
  const name = file.replace(/\.bench\.ts$/, '');
  if (only.length > 0 && !only.includes(name)) continue;
  const mod = (await import(join(here, file))) as BenchModule;
  process.stderr.write(`bench ${name}: ${mod.title}\n`);
  const started = Date.now();
  const body = await mod.run();
  const stamp = `_Run ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${((Date.now() - started) / 1000).toFixed(1)} s._`;
  const section = `## ${mod.title}\n\n${stamp}\n\n${body.trim()}\n`;
  sections.set(name, section);
  process.stdout.write(section + '\n');
}

const out = [
  '# Benchmark results',
  '',
  'Written by `npm run bench` (see bench/*.bench.ts). Figures compared in one section were measured side by side in one run.',
  '',
  ...[...sections.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, body]) => `<!-- bench:${name} -->\n${body}<!-- /bench:${name} -->\n`),
].join('\n');
await writeFile(resultsPath, out);
process.stderr.write(`wrote ${resultsPath}\n`);
